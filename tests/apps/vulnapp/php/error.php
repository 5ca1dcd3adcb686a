<?php
// A PHP page with display_errors on (the php.ini-development default), for a real PHP error
// in the vulnapp recording: the missing helper makes PHP print a fatal error with its file and line.
$cart = ['phone' => 1];
echo "<html><body><h1>Cart</h1>";
echo total_price($cart);
