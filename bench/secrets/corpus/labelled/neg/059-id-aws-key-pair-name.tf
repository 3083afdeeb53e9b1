key_name = "prod-bastion-2026"
