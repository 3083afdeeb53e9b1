token = os.environ["SERVICE_TOKEN"]
