System.setProperty("SERVICE_TOKEN", "FwKH5MqQCAHtEW8fVCwaHVtOr1hsHzC0");
