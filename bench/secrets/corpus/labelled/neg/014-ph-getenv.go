secret := os.Getenv("CLIENT_SECRET")
