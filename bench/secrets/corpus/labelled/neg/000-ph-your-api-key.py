api_key = "YOUR_API_KEY"
