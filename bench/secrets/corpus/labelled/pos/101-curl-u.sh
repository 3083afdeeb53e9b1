curl -u deploy:r9Iln3Aagjz8fkVE https://artifacts.internal/upload
