python serve.py --tokenizer=meta-llama/Llama-3.1-8B-Instruct
