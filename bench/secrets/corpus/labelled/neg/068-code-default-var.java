String apiKey = defaultApiKey2;
