authToken := "THB5fIotiaakb8D3OCKppUxHhZMOWqMs"
