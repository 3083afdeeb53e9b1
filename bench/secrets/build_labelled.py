#!/usr/bin/env python3
"""Build the broad labelled corpus: documented provider token formats (random
values, valid checksums where the format has one) in the assignment syntaxes
of common languages and formats, the formats issue 14 lists, and real-repository
look-alikes that are not secrets (placeholders, file paths, references,
settings, hashes, public keys).

usage: build_labelled.py OUT_DIR   (deterministic: fixed seed)
Writes OUT_DIR/{pos,neg}/<nnn>-<name>.<ext> and OUT_DIR/labels.json.
"""
import base64
import binascii
import json
import os
import random
import sys
import uuid

R = random.Random(14)
ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
HEX = '0123456789abcdef'
B64 = ALNUM + '+/'
URLSAFE = ALNUM + '-_'


def rnd(n, alphabet=ALNUM):
    return ''.join(R.choice(alphabet) for _ in range(n))


def crc_token(prefix):
    body = rnd(30)
    n = binascii.crc32(body.encode()) & 0xffffffff
    s = ''
    while n:
        s = B62[n % 62] + s
        n //= 62
    return prefix + body + s.rjust(6, '0')


def uid():
    return str(uuid.UUID(int=R.getrandbits(128), version=4))


def b64key(nbytes):
    return base64.b64encode(bytes(R.getrandbits(8) for _ in range(nbytes))).decode()


def pem(label, lines=8):
    body = '\n'.join(base64.b64encode(bytes(R.getrandbits(8) for _ in range(48))).decode() for _ in range(lines))
    return f'-----BEGIN {label}-----\n{body}\n-----END {label}-----\n'


def slack_digits(n):
    return str(R.randint(10 ** (n - 1), 10 ** n - 1))


POS, NEG = [], []


def pos(name, ext, text):
    POS.append((name, ext, text))


def neg(name, ext, text):
    NEG.append((name, ext, text))


# --- provider formats ------------------------------------------------------
pos('github-pat', 'env', f'GITHUB_TOKEN={crc_token("ghp_")}\n')
pos('github-oauth', 'yaml', f'oauth:\n  token: {crc_token("gho_")}\n')
pos('github-app', 'json', f'{{"installation_token": "{crc_token("ghs_")}"}}\n')
pos('github-refresh', 'py', f'REFRESH = "{crc_token("ghr_")}"\n')
pos('github-user', 'sh', f'export GH_USER_TOKEN="{crc_token("ghu_")}"\n')
pos('github-fine-grained', 'env', f'GH_PAT=github_pat_{rnd(22)}_{rnd(59)}\n')
pos('npm', 'npmrc', f'//registry.npmjs.org/:_authToken={crc_token("npm_")}\n')
pos('gitlab-pat', 'yaml', f'gitlab:\n  private_token: glpat-{rnd(20, URLSAFE)}\n')
pos('gitlab-runner', 'toml', f'[[runners]]\n  token = "glrt-{rnd(20, URLSAFE)}"\n')
pos('slack-bot', 'env', f'SLACK_BOT_TOKEN=xoxb-{slack_digits(12)}-{slack_digits(13)}-{rnd(24)}\n')
pos('slack-user', 'env', f'SLACK_USER_TOKEN=xoxp-{slack_digits(11)}-{slack_digits(11)}-{slack_digits(12)}-{rnd(32, HEX)}\n')
pos('slack-bot-legacy', 'yaml', f'slack:\n  bot: xoxb-{slack_digits(11)}-{rnd(24)}\n')
pos('slack-config-xoxe-xoxp', 'env', f'SLACK_CONFIG_TOKEN=xoxe.xoxp-1-{rnd(163)}\n')
pos('slack-config-refresh', 'env', f'SLACK_CONFIG_REFRESH=xoxe-1-{rnd(146)}\n')
pos('slack-app', 'env', f'SLACK_APP_TOKEN=xapp-1-A{rnd(10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}-{slack_digits(13)}-{rnd(64, HEX)}\n')
pos('slack-webhook', 'yaml', f'webhook: https://hooks.slack.com/services/T{rnd(8, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}/B{rnd(10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}/{rnd(24)}\n')
pos('aws-key-id', 'ini', f'[default]\naws_access_key_id = AKIA{rnd(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}\n')
pos('aws-secret', 'ini', f'[default]\naws_secret_access_key = {rnd(40, B64)}\n')
pos('gcp-api-key', 'js', f'const firebaseConfig = {{ apiKey: "AIza{rnd(35, URLSAFE)}" }};\n')
pos('gcp-oauth-secret', 'json', f'{{"client_secret": "GOCSPX-{rnd(28, URLSAFE)}"}}\n')
pos('azure-storage-connection', 'config', f'DefaultEndpointsProtocol=https;AccountName=prodstore;AccountKey={b64key(64)};EndpointSuffix=core.windows.net\n')
pos('azure-storage-env', 'env', f'AZURE_STORAGE_KEY={b64key(64)}\n')
pos('azure-storage-json', 'json', f'{{"accountName": "prodstore", "accountKey": "{b64key(64)}"}}\n')
pos('azure-storage-yaml', 'yaml', f'storage_account_key: {b64key(64)}\n')
pos('azure-ad-secret', 'env', f'AZURE_CLIENT_SECRET={rnd(3)}8Q~{rnd(34, ALNUM + "_~.-")}\n')
pos('stripe-live', 'rb', f'Stripe.api_key = "sk_live_{rnd(24)}"\n')
pos('stripe-restricted', 'env', f'STRIPE_RK=rk_live_{rnd(99)}\n')
pos('openai-proj', 'env', f'OPENAI_API_KEY=sk-proj-{rnd(74, URLSAFE)}T3BlbkFJ{rnd(74, URLSAFE)}\n')
pos('openai-legacy', 'py', f'openai.api_key = "sk-{rnd(20)}T3BlbkFJ{rnd(20)}"\n')
pos('anthropic', 'env', f'ANTHROPIC_API_KEY=sk-ant-api03-{rnd(93, URLSAFE)}AA\n')
pos('pypi', 'pypirc', f'[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc{rnd(70, URLSAFE)}\n')
pos('dockerhub', 'env', f'DOCKERHUB_TOKEN=dckr_pat_{rnd(27, URLSAFE)}\n')
pos('vault-service', 'hcl', f'token = "hvs.{rnd(91, URLSAFE)}"\n')
pos('terraform-cloud', 'tfrc', f'credentials "app.terraform.io" {{\n  token = "{rnd(14)}.atlasv1.{rnd(67)}"\n}}\n')
pos('twilio', 'env', f'TWILIO_API_KEY=SK{rnd(32, HEX)}\n')
pos('sendgrid', 'env', f'SENDGRID_API_KEY=SG.{rnd(22, URLSAFE)}.{rnd(43, URLSAFE)}\n')
pos('shopify', 'env', f'SHOPIFY_ACCESS_TOKEN=shpat_{rnd(32, HEX)}\n')
pos('telegram', 'py', f'TELEGRAM_BOT_TOKEN = "{slack_digits(10)}:AA{rnd(33, URLSAFE)}"\n')
pos('huggingface', 'env', f'HF_TOKEN=hf_{rnd(34, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")}\n')
pos('digitalocean', 'env', f'DIGITALOCEAN_TOKEN=dop_v1_{rnd(64, HEX)}\n')
pos('databricks', 'env', f'DATABRICKS_TOKEN=dapi{rnd(32, HEX)}\n')
pos('rubygems', 'yaml', f'---\n:rubygems_api_key: rubygems_{rnd(48, HEX)}\n')
pos('postman', 'env', f'POSTMAN_API_KEY=PMAK-{rnd(24, HEX)}-{rnd(34, HEX)}\n')
pos('grafana-sa', 'env', f'GRAFANA_TOKEN=glsa_{rnd(32)}_{rnd(8, HEX)}\n')
pos('sentry-user', 'env', f'SENTRY_AUTH_TOKEN=sntryu_{rnd(64, HEX)}\n')
pos('linear', 'env', f'LINEAR_API_KEY=lin_api_{rnd(40)}\n')
pos('age', 'txt', f'# created: 2026-01-01\nAGE-SECRET-KEY-1{rnd(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")}\n')
pos('square', 'env', f'SQUARE_SECRET=sq0csp-{rnd(43, URLSAFE)}\n')
pos('mailchimp', 'env', f'MAILCHIMP_API_KEY={rnd(32, HEX)}-us{R.randint(1, 21)}\n')
pos('jwt', 'yaml', 'auth:\n  token: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.' + base64.urlsafe_b64encode(json.dumps({"sub": uid(), "iat": 1790000000}).encode()).decode().rstrip('=') + '.' + rnd(43, URLSAFE) + '\n')
pos('pem-rsa', 'pem', pem('RSA PRIVATE KEY'))
pos('pem-pkcs8', 'key', pem('PRIVATE KEY'))
pos('pem-ec', 'pem', pem('EC PRIVATE KEY', 3))
pos('pem-ecdsa', 'pem', pem('ECDSA PRIVATE KEY', 3))
pos('pem-openssh', 'txt', pem('OPENSSH PRIVATE KEY', 6))
pos('pem-dsa', 'pem', pem('DSA PRIVATE KEY', 6))
pos('pem-in-yaml', 'yaml', 'tls:\n  key: |\n' + ''.join('    ' + l + '\n' for l in pem('RSA PRIVATE KEY').splitlines()))

# --- generic assignments (issue 14, causes 1-3, 6) ---------------------------
v = lambda: rnd(32)
pos('generic-foo-key-env', 'env', f'PAYMENT_GATEWAY_KEY={v()}\n')
pos('generic-camel-key', 'js', f'const config = {{ signingKey: "{v()}" }};\n')
pos('generic-json-storage-key', 'json', f'{{"storage_key": "{v()}"}}\n')
pos('generic-bare-key', 'toml', f'key = "{v()}"\n')
pos('generic-Key-eq', 'ini', f'Key={v()}\n')
pos('generic-accountkey', 'conf', f'accountkey={v()}\n')
pos('generic-multiword', 'rb', f"phrase token = '{v()}'\n")
pos('generic-API-KEY-space', 'txt', f'API KEY = {v()}\n')
pos('generic-next-line', 'yaml', f'api_key:\n  {v()}\n')
pos('generic-api-key-hex64', 'env', f'X_API_KEY={rnd(64, HEX)}\n')
pos('generic-client-secret-hex40', 'py', f'client_secret = "{rnd(40, HEX)}"\n')
pos('generic-hapikey-uuid', 'py', f"hapikey = '{uid()}'\n")
pos('generic-sk-hex', 'env', f'PAYMENT_SECRET=sk_{rnd(32, HEX)}\n')
pos('generic-live-hex', 'yaml', f'api_token: live_{rnd(32, HEX)}\n')
pos('generic-alcht', 'env', f'ALCHEMY_KEY=alcht_{rnd(30)}\n')
pos('generic-go-var', 'go', f'var serviceToken string = "{v()}"\n')
pos('generic-go-short', 'go', f'authToken := "{v()}"\n')
pos('generic-php-concat', 'php', f'<?php\n$apiToken .= "{v()}";\n')
pos('generic-setproperty', 'java', f'System.setProperty("SERVICE_TOKEN", "{v()}");\n')
pos('generic-args', 'java', f'env.put("DEPLOY_TOKEN", "{v()}");\n')
pos('generic-make-shell', 'mk', f'DEPLOY_TOKEN ::= "{v()}"\n')
pos('generic-make-eval', 'mk', f'DEPLOY_TOKEN :::= "{v()}"\n')
pos('generic-make-cond', 'mk', f'DEPLOY_TOKEN ?= {v()}\n')
pos('generic-xml-multiline', 'xml', f'<config>\n  <apiToken>\n    {v()}\n  </apiToken>\n</config>\n')
pos('generic-xml-element', 'xml', f'<settings><secretKey>{v()}</secretKey></settings>\n')
pos('generic-logstash', 'conf', f'  "authToken" => "{v()}"\n')
pos('generic-csharp', 'cs', f'private const string ApiSecret = "{v()}";\n')
pos('generic-kotlin', 'kt', f'val accessToken = "{v()}"\n')
pos('generic-credentials', 'yaml', f'service:\n  credentials: {v()}\n')
pos('generic-auth', 'env', f'UPSTREAM_AUTH={v()}\n')
pos('generic-long-oauth', 'json', f'{{"access_token": "{rnd(400, URLSAFE)}"}}\n')
pos('generic-long-refresh', 'json', f'{{"refresh_token": "1.A{rnd(600, URLSAFE)}"}}\n')
pos('azure-entra-refresh', 'txt', f'refresh: 0.A{rnd(500, URLSAFE)}\n')
pos('generic-password-yaml', 'yaml', f'database:\n  password: "{rnd(16, ALNUM + "!#%&*")}"\n')
pos('generic-password-env', 'env', f'DB_PASSWORD={rnd(20)}\n')
pos('generic-passwd-ini', 'ini', f'[mysql]\npasswd = {rnd(14)}\n')
pos('generic-secret-yaml', 'yaml', f'jwt:\n  secret: {rnd(48)}\n')
pos('generic-token-yaml-single', 'yaml', f"bot_token: '{v()}'\n")

# --- headers and credential URLs (causes 7, 9) -------------------------------
pos('header-authorization-token', 'sh', f'curl -H "Authorization: token {rnd(40, HEX)}" https://api.github.example/user\n')
pos('header-authorization-uuid', 'http', f'GET /v1/items HTTP/1.1\nAuthorization: {uid()}\n')
pos('header-x-api-key', 'sh', f"curl -H 'X-API-Key: {v()}' https://api.vendor.example/v2\n")
pos('header-x-auth-key', 'yaml', f'headers:\n  X-Auth-Key: {rnd(37, HEX)}\n')
pos("header-api-token", "http", f"Authorization: Api-Token {v()}\n")
pos('header-bearer', 'sh', f'curl -H "Authorization: Bearer {rnd(40, URLSAFE)}" https://api.example.org\n')
pos('curl-u', 'sh', f'curl -u deploy:{rnd(16)} https://artifacts.internal/upload\n')
pos('url-https-creds', 'txt', f'remote = https://deploy:{rnd(18)}@git.internal.example/org/repo.git\n')
pos('url-ftp-creds', 'cfg', f'mirror=ftp://backup:{rnd(14)}@ftp.internal.example/pub\n')
pos('url-postgres', 'env', f'DATABASE_URL=postgres://app:{rnd(20)}@db.internal:5432/app\n')
pos('url-redis-azure', 'json', f'{{"Redis": "cache-prod.redis.cache.windows.net:6380,password={b64key(32)},ssl=True,abortConnect=False"}}\n')
pos('jdbc-password', 'properties', f'spring.datasource.url=jdbc:sqlserver://db.internal:1433;databaseName=app;user=app;password={rnd(16)};\n')
pos('ado-password', 'config', f'<add name="Main" connectionString="Server=tcp:db.internal,1433;Database=app;User ID=app;Password={rnd(18)};Encrypt=True;" />\n')
pos('bundler-creds', 'yml', f'---\nBUNDLE_GEMS__CONTRIBSYS__COM: "deploy:{rnd(16, HEX)}"\n')
pos('nuget-password', 'config', f'<packageSourceCredentials>\n  <feed>\n    <add key="Username" value="ci" />\n    <add key="ClearTextPassword" value="{rnd(20)}" />\n  </feed>\n</packageSourceCredentials>\n')
pos('mongodb-srv', 'env', f'MONGO_URI=mongodb+srv://svc:{rnd(16)}@cluster0.abcde.mongodb.net/app\n')

# --- Kubernetes (cause 11) and YAML folding (cause 12) ------------------------
pw = rnd(18)
pos('k8s-secret-data', 'yaml', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: ' + base64.b64encode(pw.encode()).decode() + '\n')
pos('k8s-secret-stringdata', 'yaml', f'apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\nstringData:\n  API_TOKEN: {v()}\n')
tok = crc_token('ghp_')
pos('yaml-folded-token', 'yaml', f'env:\n  GITHUB_TOKEN: >-\n    {tok[:20]}\n    {tok[20:]}\n')
sk = 'sk_live_' + rnd(24)
pos('yaml-continued-token', 'yaml', f'stripe:\n  key: "{sk[:16]}\\\n    {sk[16:]}"\n')

# --- negatives: placeholders and documentation ------------------------------
neg('ph-your-api-key', 'py', 'api_key = "YOUR_API_KEY"\n')
neg('ph-gha-secret', 'yaml', 'env:\n  TOKEN: ${{ secrets.GITHUB_TOKEN }}\n')
neg('ph-changeme', 'yaml', 'password: changeme\n')
neg('ph-aws-example', 'ini', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n')
neg('ph-ghp-x', 'md', 'export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n')
neg('ph-ghp-handtyped', 'md', 'GITHUB_TOKEN=ghp_1234567890abcdefghijklmnopqrstuvwxyz\n')
neg('ph-angle', 'env', 'API_TOKEN=<your-api-token>\n')
neg('ph-env-ref', 'sh', 'export API_KEY=$API_KEY_FROM_VAULT\n')
neg('ph-helm', 'yaml', 'password: {{ .Values.db.password | quote }}\n')
neg('ph-redacted', 'json', '{"token": "REDACTED"}\n')
neg('ph-stars', 'yaml', 'password: "********"\n')
neg('ph-dollar-brace', 'env', 'DB_PASSWORD=${DB_PASSWORD:?required}\n')
neg('ph-os-environ', 'py', 'token = os.environ["SERVICE_TOKEN"]\n')
neg('ph-process-env', 'js', 'const apiKey = process.env.API_KEY;\n')
neg('ph-getenv', 'go', 'secret := os.Getenv("CLIENT_SECRET")\n')
neg('ph-vault-ref', 'yaml', 'password: vault:secret/data/db#password\n')
neg('ph-aws-arn', 'yaml', 'secret: arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf\n')
neg('ph-sops', 'yaml', 'password: ENC[AES256_GCM,data:3q2+7w==,iv:abcd,tag:efgh,type:str]\n')
neg('azurite-key', 'config', 'UseDevelopmentStorage=true\nDefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;\n')
neg('azurite-key-env', 'env', 'AZURE_STORAGE_KEY=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==\n')
neg('google-maps-docs-key', 'html', '<script src="https://maps.googleapis.com/maps/api/js?key=AIzaSyB41DRUbKWJHPxaFjMAwdrzWzbVKartNGg&callback=initMap"></script>\n')

# --- negatives: file paths, references, settings -----------------------------
neg('path-bearer-token-file', 'yaml', 'bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token\n')
neg('path-gac', 'env', 'GOOGLE_APPLICATION_CREDENTIALS=creds.json\n')
neg('path-gac-abs', 'env', 'GOOGLE_APPLICATION_CREDENTIALS=/etc/gcp/service-account-key.json\n')
neg('path-tls-key', 'yaml', 'tls:\n  keyFile: /etc/ssl/private/server-prod.key\n')
neg('path-token-path', 'ini', 'token_path = /var/lib/agent/credentials/token.txt\n')
neg('path-ssh-key', 'yaml', 'ssh_private_key_file: ~/.ssh/id_ed25519_deploy\n')
neg('path-windows', 'ini', 'KeyFile=C:\\ProgramData\\Agent\\keys\\client-key.pfx\n')
neg('ref-secret-ns-name', 'yaml', 'existingSecret: monitoring/grafana-admin-credentials\n')
neg('ref-secret-key-ref', 'yaml', 'env:\n- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      name: postgres-credentials\n      key: password\n')
neg('ref-secret-name', 'yaml', 'secretName: letsencrypt-production-tls\n')
neg('ref-tokenizer', 'sh', 'python serve.py --tokenizer=meta-llama/Llama-3.1-8B-Instruct\n')
neg('ref-credential-helper', 'gitconfig', '[credential]\n\thelper = manager-core\n')
neg('ref-token-endpoint', 'yaml', 'token_endpoint: https://login.microsoftonline.com/common/oauth2/v2.0/token\n')
neg('ref-token-url', 'env', 'OAUTH_TOKEN_URL=https://oauth2.googleapis.com/token\n')
neg('ref-auth-url', 'yaml', 'auth_url: https://keystone.internal.example:5000/v3\n')
neg('set-password-encryption', 'conf', 'password_encryption: scram-sha-256\n')
neg('set-auth-method', 'conf', 'host all all 0.0.0.0/0 scram-sha-256\nauth_method = md5\n')
neg('set-token-ttl', 'hcl', 'token_ttl = "768h"\ntoken_max_ttl = "8760h"\n')
neg('set-key-algorithm', 'yaml', 'key_algorithm: ECDSA_P256_SHA256\n')
neg('set-auth-type', 'yaml', 'authType: ServicePrincipalWithClientSecret\n')
neg('set-password-policy', 'json', '{"passwordPolicy": "MinimumLength=12,RequireSymbols=true"}\n')
neg('set-key-header-name', 'yaml', 'api_key_header: X-API-Key\n')
neg('set-header-names', 'json', '{"allowedHeaders": ["Authorization", "X-API-Key", "X-Auth-Token", "Content-Type"]}\n')
neg('set-auth-bearer-var', 'sh', 'curl -H "Authorization: Bearer $ACCESS_TOKEN" https://api.example.org\n')
neg('set-key-name-kms', 'yaml', 'kmsKeyName: projects/prod/locations/global/keyRings/ring/cryptoKeys/disk\n')
neg('set-credentials-mode', 'js', "fetch(url, { credentials: 'same-origin' });\n")
neg('set-secret-store', 'yaml', 'secretStoreRef:\n  kind: ClusterSecretStore\n  name: aws-secrets-manager\n')
neg('set-i18n', 'json', '{"password_reset_title": "Reset your password in two minutes"}\n')
neg('set-token-type', 'py', 'TOKEN_TYPE_BEARER = "Bearer"\nGRANT_TYPE = "client_credentials"\n')
neg('set-keycloak', 'yaml', 'clientAuthenticatorType: client-secret\n')

# --- negatives: hashes, identifiers, public material --------------------------
neg('hash-helm-checksum', 'yaml', f'annotations:\n  checksum/config: {rnd(64, HEX)}\n')
neg('hash-image-digest', 'yaml', f'image: ghcr.io/org/app@sha256:{rnd(64, HEX)}\n')
neg('hash-git-commit', 'yaml', f'revision: {rnd(40, HEX)}\n')
neg('hash-integrity', 'json', '{"integrity": "sha512-' + b64key(64) + '"}\n')
neg('hash-go-sum', 'txt', f'golang.org/x/crypto v0.31.0 h1:{b64key(32)}\n')
neg('id-request-uuid', 'json', f'{{"requestId": "{uid()}"}}\n')
neg('id-tenant-uuid', 'yaml', f'tenantId: {uid()}\nsubscriptionId: {uid()}\n')
neg('id-key-vault-key-id', 'yaml', f'keyId: https://prod-kv.vault.azure.net/keys/disk/{rnd(32, HEX)}\n')
neg('id-aws-key-pair-name', 'tf', 'key_name = "prod-bastion-2026"\n')
neg('id-public-key-ssh', 'yaml', f'ssh_authorized_keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{b64key(32)[:43]} ops@example\n')
neg('id-public-key-pem', 'pem', pem('PUBLIC KEY', 4))
neg('id-certificate', 'pem', pem('CERTIFICATE', 8))
neg('id-public-key-var', 'yaml', f'public_key: {b64key(32)}\n')
neg('id-okta-in-identifier', 'go', f'rookTable := "00{rnd(40, URLSAFE)}"\n')
neg('id-infracost-filename', 'yaml', f'icon: assets/img/ico-{rnd(32)}.png\n')
neg('id-mailchimp-no-suffix', 'yaml', f'mailchimp_list_hash: {rnd(32, HEX)}\n')
neg('code-member-ref', 'js', 'const token = this.config.apiToken2;\n')
neg('code-default-var', 'java', 'String apiKey = defaultApiKey2;\n')
neg('code-function-call', 'py', 'secret = load_secret_from_vault(path)\n')
neg('code-dom', 'js', 'const passwordField = document.getElementById("password-confirmation");\n')
neg('code-kernel', 'c', '\t.token_size = MT7915_TOKEN_SIZE,\n')
neg('code-constant-name', 'py', 'SECRET_KEY_SETTING = "DJANGO_SECRET_KEY_FILE"\n')
neg('code-key-enum', 'go', 'const keyDown = "ArrowDown"\n')
neg('url-no-creds', 'yaml', 'url: https://user@git.example.org/org/repo.git\n')
neg('url-template-pass', 'env', 'DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app\n')
neg('url-localhost-redis', 'env', 'REDIS_URL=redis://localhost:6379/0\n')
neg('url-port-only', 'yaml', 'endpoint: https://api.example.org:8443/v1/token\n')
neg('k8s-secret-ref-only', 'yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: app\n    image: app:1\n    envFrom:\n    - secretRef:\n        name: app-secrets\n')
neg('dotnet-user-secrets-id', 'csproj', f'<PropertyGroup>\n  <UserSecretsId>{uid()}</UserSecretsId>\n</PropertyGroup>\n')
neg('real-rails-erb', 'yml', 'production:\n  secret_key_base: <%= ENV["SECRET_KEY_BASE"] %>\n')
neg('real-gha-step-output', 'yaml', 'with:\n  token: ${{ steps.generate-token.outputs.token }}\n')
neg('real-ansible-lookup', 'yaml', "api_key: \"{{ lookup('env', 'API_KEY') }}\"\n")
neg('real-ansible-vault', 'yml', 'db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  ' + rnd(64, HEX) + '\n  ' + rnd(64, HEX) + '\n')
neg('real-tf-random-password', 'tf', 'password = random_password.db.result\n')
neg('real-aws-secret-name', 'tf', 'secret_name = "prod/app/db-credentials-v2"\n')
neg('real-token-file', 'env', 'TOKEN_FILE=/run/secrets/token\n')
neg('real-api-key-secret-ref', 'yaml', 'apiKeyExistingSecret: datadog-api-key-secret\n')
neg('real-sa-token-projection', 'yaml', 'volumes:\n- projected:\n    sources:\n    - serviceAccountToken:\n        path: token\n        expirationSeconds: 3600\n')
neg('real-github-token-ctx', 'yaml', 'github_token: ${{ github.token }}\n')
neg('real-java-header-const', 'java', 'private static final String TOKEN_HEADER = "X-Auth-Token";\n')
neg('real-azp-macro', 'yaml', 'client_secret: $(CLIENT_SECRET)\n')
neg('real-ansible-var', 'yaml', 'password: "{{ vault_db_password }}"\n')
neg('real-tf-file-fn', 'tf', 'private_key = file("~/.ssh/id_rsa")\n')
neg('real-helm-key-name', 'yaml', 'auth:\n  existingSecretPasswordKey: postgres-password\n')
neg('real-keycloak-key', 'yaml', 'keycloak_client_secret_key: clientSecret\n')
neg('real-k8s-token-review', 'yaml', 'apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)\n')
neg('real-npmrc-env', 'npmrc', '//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n')
neg('real-docker-login', 'sh', 'echo "$CR_PAT" | docker login ghcr.io -u "$GITHUB_ACTOR" --password-stdin\n')
neg('real-vault-path', 'hcl', 'path "secret/data/ci/deploy-token" {\n  capabilities = ["read"]\n}\n')
neg('lockfile-like', 'yaml', 'resolved: "https://registry.yarnpkg.com/@octokit/auth-token/-/auth-token-5.1.1.tgz#be8e5a5a"\n')


def main():
    out = sys.argv[1]
    cases = []
    for label, items in (('pos', POS), ('neg', NEG)):
        os.makedirs(os.path.join(out, label), exist_ok=True)
        for n, (name, ext, text) in enumerate(items):
            fname = f'{label}/{n:03d}-{name}.{ext}'
            with open(os.path.join(out, fname), 'w') as f:
                f.write(text)
            cases.append({'file': fname, 'label': 'tp' if label == 'pos' else 'fp', 'rule': name})
    with open(os.path.join(out, 'labels.json'), 'w') as f:
        json.dump({'source': 'bench/secrets/build_labelled.py (seed 14)', 'cases': cases}, f, indent=0)
    print(f'{len(POS)} positive and {len(NEG)} negative cases')


if __name__ == '__main__':
    main()
