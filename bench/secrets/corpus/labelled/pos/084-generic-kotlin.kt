val accessToken = "0GNhMqfJGMTfltXKgl7GB2hRSlIJS5lR"
