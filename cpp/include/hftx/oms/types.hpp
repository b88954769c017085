// hftx/oms/types.hpp — the value types that orders, risk, strategies, the gateway and the session share.
//
// Threading contract: value types only (trivially copyable); safe to copy between threads and through
// lock-free queues.
//
// Units: prices are counts of the instrument's tick (Price), quantities counts of the instrument's
// market-data quantity step (Qty, 1e-8 for Binance: book quantities are finer than the order lot). The
// order lot is checked by risk, not by the type.
#pragma once

#include <cstdint>
#include <string_view>

#include "hftx/core/fixed_point.hpp"
#include "hftx/core/types.hpp"

namespace hftx::oms {

using hftx::ClientOrderId;  // core/types.hpp
using hftx::InstrumentId;
using hftx::OrderType;      // limit, market
using hftx::Side;           // bid = buy, ask = sell
using hftx::StrategyId;
using hftx::TimeInForce;    // gtc, ioc, fok

enum class OrderState : std::uint8_t {
  new_order,         // created, not yet on the wire
  sent,              // order.place written to the socket
  acked,             // the venue accepted it (response 200 or executionReport NEW)
  partially_filled,
  filled,            // closed
  cancelled,         // closed
  rejected,          // closed (by the venue; local risk rejections never create an order)
  expired,           // closed (IOC/FOK/market remainder, STP)
};

[[nodiscard]] constexpr bool is_closed(OrderState s) noexcept {
  return s == OrderState::filled || s == OrderState::cancelled || s == OrderState::rejected ||
         s == OrderState::expired;
}

[[nodiscard]] constexpr std::string_view to_string(OrderState s) noexcept {
  switch (s) {
    case OrderState::new_order: return "new";
    case OrderState::sent: return "sent";
    case OrderState::acked: return "acked";
    case OrderState::partially_filled: return "partially_filled";
    case OrderState::filled: return "filled";
    case OrderState::cancelled: return "cancelled";
    case OrderState::rejected: return "rejected";
    case OrderState::expired: return "expired";
  }
  return "unknown";
}

// What a strategy asks for. The session assigns the ClientOrderId.
struct OrderRequest {
  InstrumentId instrument = 0;
  StrategyId strategy = 0;
  Side side = Side::bid;
  OrderType type = OrderType::limit;
  TimeInForce tif = TimeInForce::gtc;
  bool post_only = false;  // rests or is refused, never takes (Binance LIMIT_MAKER, OKX post_only)
  Price price;             // ignored for market orders
  Qty qty;
};

// What the venue said about one order (gateway parse of a WS-API response or an executionReport), and,
// once the OMS applied it, the order's state afterwards. One struct for both so that the strategy sees
// exactly what the venue said plus where the order stands.
enum class UpdateKind : std::uint8_t {
  ack,              // order.place accepted (response 200, or executionReport x=NEW)
  fill,             // executionReport x=TRADE (last_qty at last_price)
  cancelled,        // executionReport x=CANCELED, or order.cancel response 200
  rejected,         // order.place error response, executionReport x=REJECTED, or local risk (pipelined mode)
  expired,          // executionReport x=EXPIRED / TRADE_PREVENTION
  cancel_rejected,  // order.cancel error response (e.g. -2011 unknown order): the order's state is unchanged
};

[[nodiscard]] constexpr std::string_view to_string(UpdateKind k) noexcept {
  switch (k) {
    case UpdateKind::ack: return "ack";
    case UpdateKind::fill: return "fill";
    case UpdateKind::cancelled: return "cancelled";
    case UpdateKind::rejected: return "rejected";
    case UpdateKind::expired: return "expired";
    case UpdateKind::cancel_rejected: return "cancel_rejected";
  }
  return "unknown";
}

// Why the venue refused an order or a cancel, in words every venue maps its own codes to (the venue's code
// stays in OrderUpdate::error_code for logs). The session acts on these, never on a venue's numbers.
enum class RejectReason : std::uint8_t {
  none,
  other,                 // a refusal the venue module does not classify (the code says more)
  order_not_found,       // the venue has no such order: it never arrived (Binance -2013, OKX 51603)
  unknown_order,         // a cancel of an order the venue no longer has open (Binance -2011, OKX 51400)
  // A cancel or amend refused because the order is closed, where the venue says how (OKX 51402 / 51510,
  // 51401 / 51509); unknown_order when it does not (Binance -2011, OKX 51400 / 51503).
  order_filled,          // the order is already filled (completed)
  order_cancelled,       // the order is already cancelled
  would_take,            // a post-only order would have crossed (Binance -2010 "would immediately match")
  insufficient_balance,  // not enough funds or margin
  duplicate_client_id,   // the client order id is in use
  rate_limited,          // too many requests
  invalid_request,       // a price, quantity or parameter the venue refuses (filters, precision)
  not_logged_on,         // the connection is not authenticated
  count_
};

[[nodiscard]] constexpr std::string_view to_string(RejectReason r) noexcept {
  switch (r) {
    case RejectReason::none: return "none";
    case RejectReason::other: return "other";
    case RejectReason::order_not_found: return "order_not_found";
    case RejectReason::unknown_order: return "unknown_order";
    case RejectReason::order_filled: return "order_filled";
    case RejectReason::order_cancelled: return "order_cancelled";
    case RejectReason::would_take: return "would_take";
    case RejectReason::insufficient_balance: return "insufficient_balance";
    case RejectReason::duplicate_client_id: return "duplicate_client_id";
    case RejectReason::rate_limited: return "rate_limited";
    case RejectReason::invalid_request: return "invalid_request";
    case RejectReason::not_logged_on: return "not_logged_on";
    case RejectReason::count_: break;
  }
  return "unknown";
}

struct OrderUpdate {
  UpdateKind kind = UpdateKind::ack;
  ClientOrderId client_id = 0;       // parsed from the venue's client order id (0: not one of ours)
  std::uint64_t venue_order_id = 0;  // the venue's order id
  InstrumentId instrument = 0;       // resolved from the symbol by the gateway
  Side side = Side::bid;
  Price last_price;                  // fill: execution price
  Qty last_qty;                      // fill: executed quantity
  Qty cum_qty;                       // venue's cumulative filled quantity, when known
  std::uint64_t trade_id = 0;        // fill: the venue's trade id
  bool maker = false;                // fill: we were the maker
  std::int32_t error_code = 0;       // rejected / cancel_rejected: the venue's code (Binance -2010, OKX 51008); risk: -reason
  RejectReason reason = RejectReason::none;  // rejected / cancel_rejected: what the code means
  std::int64_t venue_time_ns = 0;    // the venue's time of the event (Binance T / transactTime, OKX uTime)
  std::int64_t recv_ns = 0;          // ours
  // Filled in by the OMS when it applies the update:
  StrategyId strategy = 0;
  OrderState state = OrderState::new_order;  // the order's state after the update
  Qty filled;                                // the order's filled quantity after the update
  Qty qty;                                   // the order's quantity
  Price price;                               // the order's limit price
};

}  // namespace hftx::oms
