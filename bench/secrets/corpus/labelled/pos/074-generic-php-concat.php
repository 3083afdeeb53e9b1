<?php
$apiToken .= "Vdo2pwxCaqoMh9eI43U65HiWdv7q6Kh5";
