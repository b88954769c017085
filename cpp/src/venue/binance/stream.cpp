// Binance's market stream for a session's feed. See hftx/venue/binance/stream.hpp.
#include "hftx/venue/binance/stream.hpp"

#include <cctype>

#include "hftx/venue/binance/venue.hpp"

namespace hftx::venue::binance {

StreamProtocol::StreamProtocol(const VenueConfig& cfg, std::vector<std::string> symbols)
    : depth_stream_(option_value(cfg, kInfo, "depth_stream")) {
  for (std::string& s : symbols) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    keys_.push_back(s + "@");
    symbols_.push_back(std::move(s));
  }
}

std::string StreamProtocol::url(const std::string& base) const {
  std::string url = base;
  url += url.find('?') == std::string::npos ? "?streams=" : "&streams=";
  bool first = true;
  for (const std::string& sym : symbols_) {
    for (const std::string_view kind : {std::string_view(depth_stream_), std::string_view("bookTicker"),
                                        std::string_view("trade")}) {
      if (!first) url += '/';
      first = false;
      url += sym + "@" + std::string(kind);
    }
  }
  return url;
}

}  // namespace hftx::venue::binance
