const token = this.config.apiToken2;
