curl -H "Authorization: Bearer yZpEgb2mjFBez3fuX86RvxEbe4Ms2OLvJf1T7uwm" https://api.example.org
