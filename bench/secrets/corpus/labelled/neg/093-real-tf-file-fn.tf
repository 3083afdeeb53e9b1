private_key = file("~/.ssh/id_rsa")
