# Signed and sealed URLs made by the anchor's own Ruby client (cloudimage-rb),
# for names with spaces, non-ASCII letters and `+`: the vectors in
# edge/src/sign.rs (`the_clients_signatures_hold_for_encoded_names`).
#
#   apt-get install -y ruby ruby-addressable
#   git clone https://github.com/scaleflex/cloudimage-rb /tmp/cloudimage-rb
#   ruby -I /tmp/cloudimage-rb/lib scripts/client-vectors.rb
#
# The client signs the path as given; a browser then sends it percent-encoded.
require 'cloudimage'

signer = Cloudimage::Client.new(token: 'demo', salt: 'salt', signature_length: 18)
sealer = Cloudimage::Client.new(token: 'demo', salt: 'salt', signature_length: 18, sign_urls: false)
['/sample.li/my image.jpg', '/sample.li/café/ünïcode.jpg', '/sample.li/a+b (1).jpg'].each do |path|
  puts "signed, w=300: #{signer.path(path).w(300).to_url}"
  puts "signed:        #{signer.path(path).to_url}"
  puts "sealed, w=300: #{sealer.path(path).w(300).to_url(seal_params: %i[w])}"
end
