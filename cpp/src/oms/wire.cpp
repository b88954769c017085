// The neutral words of an order connection. See hftx/oms/wire.hpp.
#include "hftx/oms/wire.hpp"

#include <algorithm>
#include <utility>

#include "hftx/core/error.hpp"
#include "md/json_detail.hpp"

namespace hftx::oms {

ApiInstruments::ApiInstruments(std::vector<ApiInstrument> instruments) : list_(std::move(instruments)) {
  if (list_.empty() || list_.size() > 65535)
    throw ConfigError("instruments: expected 1..65535 instruments, got " + std::to_string(list_.size()));
  std::size_t slots = 4;
  while (slots < list_.size() * 2) slots *= 2;
  table_.assign(slots, 0);
  for (std::size_t i = 0; i < list_.size(); ++i) {
    const std::string& sym = list_[i].symbol;
    const bool valid = !sym.empty() && sym.size() <= 32 && std::all_of(sym.begin(), sym.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    if (!valid)
      throw ConfigError("instruments[" + std::to_string(i) + "].symbol: '" + sym +
                        "' is invalid (expected 1..32 characters of [A-Za-z0-9_-])");
    std::size_t slot = hash(sym) & (slots - 1);
    for (; table_[slot] != 0; slot = (slot + 1) & (slots - 1))
      if (list_[table_[slot] - 1u].symbol == sym)
        throw ConfigError("instruments[" + std::to_string(i) + "].symbol: '" + sym + "' is listed twice");
    table_[slot] = static_cast<std::uint16_t>(i + 1);
    longest_ = std::max(longest_, sym.size());
  }
}

Price missed_fill_price(const OrderStatusReport& venue, Qty known_filled, Price known_price, Qty missed,
                        const Scale& price_scale, const Scale& qty_scale) noexcept {
  // Work in 10^-d quote units, d = max(8, price decimals + qty decimals): the venue's amount and every
  // price x quantity product are integers there. 10^20 x (10^18 x 10^18-sized operands) would not fit.
  const int pq = price_scale.decimals() + qty_scale.decimals();
  if (venue.cum_quote_e8 < 0 || missed.raw() <= 0 || pq > 20) return known_price;
  const int d = pq > 8 ? pq : 8;
  const auto p10 = [](int n) {
    int128 v = 1;
    while (n-- > 0) v *= 10;
    return v;
  };
  const int128 unit = static_cast<int128>(price_scale.multiplier()) * qty_scale.multiplier() * p10(d - pq);
  const int128 cum = static_cast<int128>(venue.cum_quote_e8) * p10(d - 8);
  const int128 rest = cum - static_cast<int128>(known_filled.raw()) * known_price.raw() * unit;
  const int128 per = static_cast<int128>(missed.raw()) * unit;
  if (rest <= 0) return known_price;
  const int128 ticks = (rest + per / 2) / per;  // to the nearest tick
  return ticks > 0 && ticks <= INT64_MAX ? Price(static_cast<std::int64_t>(ticks)) : known_price;
}

std::string ApiParseResult::describe() const { return detail::describe_result(*this); }

}  // namespace hftx::oms
