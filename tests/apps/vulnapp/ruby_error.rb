# A WEBrick server whose error handler sends the exception and its backtrace to the client, for
# a real Ruby stack trace in the vulnapp recording. usage: ruby ruby_error.rb HOST PORT
require 'webrick'

def unit_price(prices, item)
  prices[item] * 2 # missing item: nil * 2 raises NoMethodError
end

server = WEBrick::HTTPServer.new(BindAddress: ARGV[0], Port: ARGV[1].to_i,
                                 Logger: WEBrick::Log.new(File::NULL), AccessLog: [])
server.mount_proc '/' do |req, res|
  res['Content-Type'] = 'text/plain'
  if req.path.start_with?('/ok')
    res.body = "ok\n"
  else
    begin
      res.body = "price #{unit_price({ 'phone' => 299 }, 'tablet')}\n"
    rescue StandardError => e
      res.status = 500
      res.body = "#{e.message} (#{e.class})\n#{e.backtrace.join("\n")}\n"
    end
  end
end
trap('TERM') { server.shutdown }
trap('INT') { server.shutdown }
server.start
