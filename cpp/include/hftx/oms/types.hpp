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

#include "hftx/book/l2_book.hpp"
#include "hftx/book/matching.hpp"
#include "hftx/core/fixed_point.hpp"

namespace hftx::oms {

using book::OrderType;    // limit, market
using book::Side;         // bid = buy, ask = sell
using book::TimeInForce;  // gtc, ioc, fok

using InstrumentId = std::uint16_t;
using StrategyId = std::uint32_t;
// Ours, unique per session, never 0. Sent to the venue as newClientOrderId = <prefix><decimal id>.
using ClientOrderId = std::uint64_t;

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
  bool post_only = false;  // Binance spot: type LIMIT_MAKER
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

struct OrderUpdate {
  UpdateKind kind = UpdateKind::ack;
  ClientOrderId client_id = 0;       // parsed from clientOrderId / origClientOrderId (0: not one of ours)
  std::uint64_t venue_order_id = 0;  // orderId
  InstrumentId instrument = 0;       // resolved from the symbol by the gateway
  Side side = Side::bid;
  Price last_price;                  // fill: execution price
  Qty last_qty;                      // fill: executed quantity
  Qty cum_qty;                       // venue's cumulative filled quantity (z), when known
  std::uint64_t trade_id = 0;        // fill: t
  bool maker = false;                // fill: m
  std::int32_t error_code = 0;       // rejected / cancel_rejected: Binance error code (e.g. -2010); risk: -reason
  std::int64_t venue_time_ms = 0;    // T / transactTime
  std::int64_t recv_ns = 0;          // ours
  // Filled in by the OMS when it applies the update:
  StrategyId strategy = 0;
  OrderState state = OrderState::new_order;  // the order's state after the update
  Qty filled;                                // the order's filled quantity after the update
  Qty qty;                                   // the order's quantity
  Price price;                               // the order's limit price
};

}  // namespace hftx::oms
