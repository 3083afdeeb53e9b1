curl -H "Authorization: Bearer $ACCESS_TOKEN" https://api.example.org
