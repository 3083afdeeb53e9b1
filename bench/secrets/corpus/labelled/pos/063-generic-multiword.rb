phrase token = '72n5tYn6Oq2rFmOaBlwoaOraA8bOYNCA'
