curl -H 'X-API-Key: blAEp9SXNwWzaRLtiSTauBzYc6ucS2Ir' https://api.vendor.example/v2
