// A Node.js server whose error handler sends the stack trace to the client (a common Express-era
// mistake), for a real Node stack trace in the vulnapp recording. usage: node node_error.js HOST PORT
const http = require('http');
const [host, port] = process.argv.slice(2);

function loadCart(user) {
  return user.cart.items; // user.cart is undefined: TypeError
}

http.createServer((req, res) => {
  if (req.url.startsWith('/ok')) {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    return res.end('ok\n');
  }
  try {
    loadCart({ name: 'ann' });
    res.end('unreachable');
  } catch (err) {
    res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end(err.stack + '\n');
  }
}).listen(Number(port), host);
