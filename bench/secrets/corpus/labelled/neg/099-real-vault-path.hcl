path "secret/data/ci/deploy-token" {
  capabilities = ["read"]
}
