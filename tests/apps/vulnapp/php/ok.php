<?php
// The same page without the bug.
$cart = ['phone' => 1];
echo "<html><body><h1>Cart</h1><p>" . count($cart) . " item</p></body></html>";
