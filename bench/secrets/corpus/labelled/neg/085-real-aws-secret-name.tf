secret_name = "prod/app/db-credentials-v2"
