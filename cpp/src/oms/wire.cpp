// The neutral words of an order connection. See hftx/oms/wire.hpp.
#include "hftx/oms/wire.hpp"

#include "md/json_detail.hpp"

namespace hftx::oms {

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
