curl -H "Authorization: token ce86ff829c2491ba1a40d0ec7d06d3dd8c0c2631" https://api.github.example/user
