secret = load_secret_from_vault(path)
