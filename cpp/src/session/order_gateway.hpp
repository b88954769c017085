// session/order_gateway.hpp (internal) — a session's order side: OMS, positions and risk over one order
// connection, in any venue's protocol. docs/ARCHITECTURE.md, "The session".
//
// Threading contract: one thread (the inline session thread, the pipelined gateway thread, or the pipelined
// feed thread for its depth-request connection) calls every member, and owns the connection's reactor. The
// `deliver` callback runs on that thread.
//
// The venue speaks through V::OrderCodec (venue/<name>/venue.hpp): requests out, answers and execution reports
// in, as neutral OrderUpdates (oms/wire.hpp). What differs between venues is said by the codec's capabilities:
//  - kOrderQuery: after a reconnect each open order's state is asked for (Binance order.status) and the OMS is
//    brought up to it; without it (OKX) each open order is cancelled, and its final state learnt from the
//    answer (already filled, already cancelled, unknown) and the cancel report (the cumulative fill);
//  - kCancelAll: shutdown and the kill switch cancel an instrument's orders in one request, else one by one;
//  - kDepthRequests: depth snapshots are asked for on this connection (Binance); OKX's come in the stream.
// Nothing is lost or applied twice across a reconnect: fills missed while disconnected are applied from the
// venue's cumulative quantity, at the average price its cumulative amount implies.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hftx/latency/tracker.hpp"
#include "hftx/memory/prefault.hpp"
#include "hftx/net/reactor.hpp"
#include "hftx/net/websocket.hpp"
#include "hftx/oms/order.hpp"
#include "hftx/oms/position.hpp"
#include "hftx/oms/wire.hpp"
#include "hftx/risk/risk.hpp"
#include "session/state.hpp"

namespace hftx::session {

// What a gateway reads and writes of the session.
struct GatewayContext {
  const SessionConfig& cfg;
  std::span<Instrument> instruments;
  Counters& counters;
  TimelineLogs& logs;
  std::vector<std::string>& notes;
  Failure& failure;
  std::size_t strategies = 1;
};

template <class V>
class OrderGateway {
  using Codec = typename V::OrderCodec;

 public:
  // Delivers each applied update (or a local pipelined risk rejection) to the strategy's owner.
  using Deliver = std::function<void(const oms::OrderUpdate&)>;

  // `trading`: this connection places orders and receives their reports (false: the pipelined feed's
  // connection for depth snapshots only).
  OrderGateway(const GatewayContext& ctx, net::Reactor& reactor, bool trading)
      : ctx_(ctx),
        codec_(ctx.cfg.venue, api_instruments(ctx.instruments), trading, ctx.notes),
        oms_(ctx.cfg.max_orders, ctx.instruments.size(), std::max<std::size_t>(ctx.strategies, 1)),
        risk_(ctx.cfg.risk, oms_) {
    for (InstrumentId i = 0; i < ctx.instruments.size(); ++i) {
      const Instrument& in = ctx.instruments[i];
      oms_.positions().set_scales(i, in.price_scale, in.qty_scale);
      try {
        risk_.add_instrument(i, in.price_scale, in.qty_scale, in.cfg.lot_step);
      } catch (const ConfigError& e) {
        throw ConfigError("instruments[" + std::to_string(i) + "]: " + e.what());
      }
    }
    // The kill switch trips inside a risk call; the cancels go out right after it (handle_kill()).
    risk_.set_kill_callback([this](risk::KillCause) { kill_pending_ = true; });
    reserve_mapped(scratch_ids_, ctx.cfg.max_orders);  // the kill switch and shutdown collect ids here
    reserve_mapped(reconcile_ids_, ctx.cfg.max_orders);
    depth_requests_.assign(ctx.instruments.size(), 0);
    api_ = std::make_unique<net::WsClient>(reactor, ws_config(ctx.cfg, ctx.cfg.venue.api_url));
    api_->on_message = [this](net::WsConnection&, const net::WsMessage& m) { on_message(m); };
    api_->on_open = [this](net::WsConnection&) {
      // A new connection is not logged on: the codec says what it needs first (a logon, the reports).
      codec_.on_open([this](auto&& encode) { return send(encode); }, now_ns());
    };
    api_->on_reconnect_failed = [this](net::WsClient&, const std::string& error, bool giving_up) {
      ctx_.counters.reconnect_failures.add();
      if (giving_up) ctx_.failure.raise("order connection: " + error);
    };
    api_->on_reconnect = [this](net::WsClient&, unsigned) {
      codec_.logged_off();  // before the reconciliation's requests go out on the new connection
      ctx_.counters.reconnects.add();
      reconcile();
      if (on_reconnected) on_reconnected();
    };
  }

  void connect() { api_->connect(); }
  // Orders may go out: the connection is logged on where the venue requires it, or orders are disabled anyway
  // (market data only). start() waits for it (bounded), so that a strategy's first orders are not refused locally.
  [[nodiscard]] bool ready() const noexcept { return !codec_.orders_enabled() || codec_.ready(); }
  void close() { api_->close(); }
  void flush() noexcept { api_->flush(); }

  // Places an order (risk checked); ok when it was written to the connection.
  risk::RiskReason place(ClientOrderId id, const oms::OrderRequest& req, LatencyTracker::Recorder* rec) noexcept {
    const std::int64_t now = now_ns();
    risk_.set_reference_mid2(req.instrument, ctx_.instruments[req.instrument].mid2());
    const risk::RiskReason r = codec_.orders_enabled() ? risk_.check(req, now) : risk::RiskReason::kill_switch;
    if (rec != nullptr) rec->stamp(Stage::risk);
    if (HFTX_UNLIKELY(r != risk::RiskReason::ok)) {
      ctx_.counters.risk_rejects.add();
      ctx_.counters.risk_by_reason[static_cast<std::size_t>(r)].add();
      if (HFTX_UNLIKELY(kill_pending_)) handle_kill();
      return r;
    }
    oms::Order* o = oms_.create(req, id, now);
    if (HFTX_UNLIKELY(o == nullptr)) {
      ctx_.counters.risk_rejects.add();
      ctx_.counters.risk_by_reason[static_cast<std::size_t>(risk::RiskReason::open_orders)].add();
      return risk::RiskReason::open_orders;
    }
    if (HFTX_UNLIKELY(!codec_.ready() ||
                      !send([&](char* out, std::size_t cap) { return codec_.encode_place(id, req, now, out, cap); }))) {
      // Not on the wire (connection down or not logged on yet, back-pressure): closed as rejected locally.
      oms::OrderUpdate u;
      u.kind = oms::UpdateKind::rejected;
      u.client_id = id;
      u.instrument = req.instrument;
      u.side = req.side;
      u.recv_ns = now;
      (void)oms_.apply(u);
      ctx_.counters.queue_drops.add();
      return risk::RiskReason::rate_limit;
    }
    (void)oms_.mark_sent(id, now);
    if (rec != nullptr) rec->stamp(Stage::encode);
    ctx_.counters.orders_sent.add();
    ctx_.counters.open_orders.set(oms_.open_count());
    ctx_.logs.orders->push(OrderSample{now, req.instrument, static_cast<std::int8_t>(req.side == Side::bid ? 1 : -1),
                                       req.price.raw(), req.qty.raw()});
    return risk::RiskReason::ok;
  }

  bool cancel(ClientOrderId id) noexcept {
    oms::Order* o = oms_.find(id);
    if (o == nullptr || oms::is_closed(o->state) || o->cancel_pending()) return false;
    const InstrumentId instrument = o->instrument;
    const std::int64_t now = now_ns();
    if (!send([&](char* out, std::size_t cap) { return codec_.encode_cancel(id, instrument, now, out, cap); }))
      return false;
    (void)oms_.mark_cancel_sent(id, now);
    ctx_.counters.cancels_sent.add();
    return true;
  }

  void cancel_strategy(StrategyId sid, InstrumentId instrument) noexcept {
    // Collect first (into storage reserved at setup), then cancel: the walk stays independent of the table.
    scratch_ids_.clear();
    oms_.for_each_open([&](const oms::Order& o) {
      if (o.strategy == sid && o.instrument == instrument && !o.cancel_pending()) scratch_ids_.push_back(o.client_id);
    });
    for (ClientOrderId id : scratch_ids_) (void)cancel(id);
  }

  // Every open order, in one request per instrument where the venue has one, else one by one.
  void cancel_everything() noexcept {
    const std::int64_t now = now_ns();
    if constexpr (Codec::kCancelAll) {
      for (InstrumentId i = 0; i < ctx_.instruments.size(); ++i)
        if (!send([&](char* out, std::size_t cap) { return codec_.encode_cancel_all(i, ++request_n_, now, out, cap); }))
          return;
      scratch_ids_.clear();
      oms_.for_each_open([&](const oms::Order& o) { scratch_ids_.push_back(o.client_id); });
      for (ClientOrderId id : scratch_ids_) (void)oms_.mark_cancel_sent(id, now);
    } else {
      scratch_ids_.clear();
      oms_.for_each_open([&](const oms::Order& o) {
        if (!o.cancel_pending()) scratch_ids_.push_back(o.client_id);
      });
      for (ClientOrderId id : scratch_ids_) (void)cancel(id);
    }
    api_->flush();
  }

  // Shutdown (cancel_on_stop): cancels every open order and turns `reactor` until the venue confirmed them all,
  // at most 2 s.
  void cancel_open_orders_and_wait(net::Reactor& reactor) noexcept {
    if (!ctx_.cfg.cancel_on_stop || oms_.open_count() == 0) return;
    cancel_everything();
    poll_until(reactor, std::chrono::seconds(2), [&] { return oms_.open_count() == 0; });
  }

  // A depth snapshot request (venues that answer them on this connection). When the connection is down nothing
  // goes out: the reconnect asks again (on_reconnected), and so does the book's snapshot timeout.
  void request_depth(InstrumentId i) noexcept {
    if constexpr (Codec::kDepthRequests) {
      const int limit = ctx_.instruments[i].cfg.snapshot_depth;
      const std::uint64_t n = ++request_n_;
      if (send([&](char* out, std::size_t cap) { return codec_.encode_depth(i, limit, n, out, cap); })) {
        depth_requests_[i] = n;
        api_->flush();
      }
    } else {
      (void)i;
    }
  }

  void on_timer(std::int64_t now) noexcept {
    if (HFTX_UNLIKELY(reconcile_next_ < reconcile_ids_.size())) continue_reconcile();
    codec_.on_timer([this](auto&& encode) { return send(encode); }, now);  // the venue's keep-alive, if any
    mark_positions();  // mark to the mid and feed the loss limit
    (void)risk_.on_pnl(oms_.positions().total_pnl());
    if (HFTX_UNLIKELY(kill_pending_)) handle_kill();
  }

  // Marks every position to its book's mid (unrealised PnL).
  void mark_positions() noexcept {
    for (InstrumentId i = 0; i < ctx_.instruments.size(); ++i)
      oms_.positions().set_mark2(i, ctx_.instruments[i].mid2());
  }

  net::WsClient& connection() noexcept { return *api_; }
  oms::OrderManager& oms() noexcept { return oms_; }
  const oms::OrderManager& oms() const noexcept { return oms_; }
  const oms::PositionBook& positions() const noexcept { return oms_.positions(); }

  Deliver deliver;
  // Depth answers go here (the market feed's snapshot handler), with the instrument whose request they answer.
  std::function<void(InstrumentId, std::string_view json, std::int64_t recv_ns)> on_depth;
  // After the connection came back (and the reconciliation went out): the owner of the depth requests asks
  // again for what it still awaits.
  std::function<void()> on_reconnected;

 private:
  static std::vector<oms::ApiInstrument> api_instruments(std::span<const Instrument> ins) {
    std::vector<oms::ApiInstrument> out;
    for (const auto& in : ins) out.push_back(oms::ApiInstrument{in.cfg.symbol, in.price_scale, in.qty_scale});
    return out;
  }

  // One request on the connection: encode(out, cap) writes it into the send buffer and returns its length
  // (0: not written). False when nothing went out (connection down, back-pressure).
  template <class Encode>
  bool send(Encode&& encode) noexcept {
    const std::size_t cap = codec_.max_request_size();
    std::uint8_t* p = api_->prepare(cap);
    if (HFTX_UNLIKELY(p == nullptr)) return false;
    const std::size_t n = encode(reinterpret_cast<char*>(p), cap);
    if (HFTX_UNLIKELY(n == 0)) return false;
    api_->commit(net::Opcode::kText, n);
    return true;
  }

  void on_message(const net::WsMessage& m) noexcept {
    if (HFTX_UNLIKELY(reconcile_next_ < reconcile_ids_.size())) continue_reconcile();
    const std::int64_t now = now_ns();
    oms::ApiMessage msg;
    auto sink = [&](const oms::OrderUpdate& cu) noexcept {
      oms::OrderUpdate u = cu;
      apply(u);
    };
    const oms::ApiParseResult r = codec_.parse(m.data, m.data.size() + net::kMessagePadding, now, msg, sink);
    if (HFTX_UNLIKELY(!r.ok())) {
      ctx_.counters.api_errors.add();
      return;
    }
    switch (msg.kind) {
      case oms::ApiKind::depth:
        if (msg.is_error()) {
          ctx_.counters.api_errors.add();
        } else if (on_depth) {
          // An answer no request awaits (asked again since) is dropped: the newer one is on its way.
          const auto it = std::find(depth_requests_.begin(), depth_requests_.end(), msg.request);
          if (msg.request != 0 && it != depth_requests_.end()) {
            *it = 0;
            on_depth(static_cast<InstrumentId>(it - depth_requests_.begin()), m.data, now);
          }
        }
        break;
      case oms::ApiKind::order_status: on_order_status(msg, now); break;
      case oms::ApiKind::logon:
        // Refused: counted. Binance's requests then stay signed one by one; a venue that takes no order without
        // its login (OKX) cannot trade at all with these credentials, which retrying will not mend: the session
        // stops, saying why.
        if (msg.is_error()) {
          ctx_.counters.api_errors.add();
          if constexpr (Codec::kLoginRequired)
            ctx_.failure.raise("order connection: " + ctx_.cfg.venue.api_url + ": login refused (" +
                               std::to_string(msg.error_code) + " " + std::string(msg.error_msg) + ")");
        } else {
          ctx_.counters.logons.add();
          codec_.on_logged_on([this](auto&& encode) { return send(encode); }, now);
        }
        break;
      default:
        if (msg.is_error() && msg.kind != oms::ApiKind::place && msg.kind != oms::ApiKind::cancel)
          ctx_.counters.api_errors.add();
        break;
    }
  }

  oms::OrderUpdate update_of(const oms::Order& o, oms::UpdateKind kind, std::int64_t now) const noexcept {
    oms::OrderUpdate u;
    u.kind = kind;
    u.client_id = o.client_id;
    u.instrument = o.instrument;
    u.side = o.side();
    u.recv_ns = now;
    return u;
  }
  // The order with this id while it is open, else nullptr (each apply() may close it).
  const oms::Order* open_order(ClientOrderId id) const noexcept {
    const oms::Order* o = id != 0 ? oms_.find(id) : nullptr;
    return o != nullptr && !oms::is_closed(o->state) ? o : nullptr;
  }
  // Fills the session missed, up to the venue's cumulative quantity `venue_cum`, as one fill at the average price
  // the venue's report implies. False when the order closed.
  bool apply_missed_fills(const oms::Order& o, const oms::OrderStatusReport& venue, std::int64_t now) noexcept {
    const std::int64_t missed = venue.executed_qty.raw() - o.filled.raw();
    if (missed <= 0) return true;
    oms::OrderUpdate u = update_of(o, oms::UpdateKind::fill, now);
    const Instrument& in = ctx_.instruments[o.instrument];
    u.last_price = oms::missed_fill_price(venue, o.filled, o.price, Qty(missed), in.price_scale, in.qty_scale);
    u.last_qty = Qty(missed);
    u.cum_qty = venue.executed_qty;
    const ClientOrderId id = o.client_id;
    apply(u);
    return open_order(id) != nullptr;
  }

  // An order query's answer (reconciliation after a reconnect) brings the order up to the venue's view: the ack
  // if it was lost, the missed fills, then the close.
  void on_order_status(const oms::ApiMessage& msg, std::int64_t now) noexcept {
    if (msg.is_error()) {
      ctx_.counters.api_errors.add();
      // The venue never had the order: it is closed as lost. Any other error leaves it as it is (counted).
      if (msg.reason == oms::RejectReason::order_not_found && msg.request != 0) {
        oms::OrderUpdate u;
        u.kind = oms::UpdateKind::rejected;
        u.client_id = msg.request;
        u.error_code = msg.error_code;
        u.reason = msg.reason;
        u.recv_ns = now;
        apply(u);
      }
      return;
    }
    const oms::OrderStatusReport& venue = msg.order;
    const oms::Order* o = open_order(venue.client_id);
    if (o == nullptr) return;
    if ((o->flags & oms::Order::kFlagAcked) == 0) {  // the venue has it: acked before anything else happens
      oms::OrderUpdate u = update_of(*o, oms::UpdateKind::ack, now);
      u.venue_order_id = venue.venue_order_id;
      apply(u);
      if ((o = open_order(venue.client_id)) == nullptr) return;
    }
    if (!apply_missed_fills(*o, venue, now) || (o = open_order(venue.client_id)) == nullptr) return;
    if (venue.state == oms::OrderState::cancelled || venue.state == oms::OrderState::expired ||
        venue.state == oms::OrderState::rejected) {
      oms::OrderUpdate u = update_of(*o, venue.state == oms::OrderState::cancelled ? oms::UpdateKind::cancelled
                                         : venue.state == oms::OrderState::expired ? oms::UpdateKind::expired
                                                                                    : oms::UpdateKind::rejected,
                                      now);
      u.cum_qty = venue.executed_qty;
      apply(u);
    }
  }

  void apply(oms::OrderUpdate& u) noexcept {
    if (u.client_id == 0) {
      ctx_.counters.unknown_orders.add();
      return;
    }
    if (HFTX_UNLIKELY(u.kind == oms::UpdateKind::cancel_rejected || u.kind == oms::UpdateKind::cancelled ||
                      u.kind == oms::UpdateKind::expired)) {
      if (!settle_close(u)) return;
    }
    if (!oms_.apply(u)) {
      // Duplicates (the ack of the response and of the execution report, ...) are harmless and not counted
      // here; impossible transitions are.
      const oms::Anomaly a = oms_.last_anomaly();
      if (a == oms::Anomaly::unknown_order)
        ctx_.counters.unknown_orders.add();
      else if (oms::is_impossible(a))
        ctx_.counters.impossible_updates.add();
      return;
    }
    switch (u.kind) {
      case oms::UpdateKind::ack: ctx_.counters.orders_acked.add(); break;
      case oms::UpdateKind::fill:
        ctx_.counters.fills.add();
        ctx_.counters.filled_qty_raw.add(static_cast<std::uint64_t>(u.last_qty.raw()));
        ctx_.logs.fills->push(OrderSample{now_ns(), u.instrument,
                                          static_cast<std::int8_t>(u.side == Side::bid ? 1 : -1), u.last_price.raw(),
                                          u.last_qty.raw()});
        break;
      case oms::UpdateKind::cancelled: ctx_.counters.cancelled.add(); break;
      case oms::UpdateKind::rejected:
        // An order the venue never received (reconciliation) is lost, not refused: it says nothing about what
        // the strategy sends, so the reject-rate kill switch does not see it.
        if (u.reason == oms::RejectReason::order_not_found) {
          ctx_.counters.orders_lost.add();
        } else {
          ctx_.counters.venue_rejects.add();
          (void)risk_.on_venue_reject(now_ns());
        }
        break;
      case oms::UpdateKind::expired: ctx_.counters.expired.add(); break;
      case oms::UpdateKind::cancel_rejected: break;
    }
    ctx_.counters.open_orders.set(oms_.open_count());
    if (deliver) deliver(u);
    if (HFTX_UNLIKELY(kill_pending_)) handle_kill();
  }

  // Before a close or a refused cancel is applied: what it says of fills the session has not seen.
  //  - a close whose cumulative quantity is past the fills applied (a venue that reports the cumulative fill
  //    with the cancel, OKX; fills missed over a reconnect) gets those fills first, at the average price the
  //    report gives (OrderUpdate::last_price on a close: the venue's average fill price, 0 when not given);
  //  - a cancel refused because the order filled meanwhile, or was cancelled already, or never existed, closes it
  //    accordingly (the reports that said so were lost with a connection). True: apply `u` as it is.
  bool settle_close(oms::OrderUpdate& u) noexcept {
    const oms::Order* o = open_order(u.client_id);
    if (o == nullptr) return true;  // the OMS says what that is (unknown, duplicate)
    const std::int64_t now = u.recv_ns;
    if (u.kind == oms::UpdateKind::cancel_rejected) {
      switch (u.reason) {
        case oms::RejectReason::order_filled: {
          oms::OrderStatusReport venue;
          venue.executed_qty = o->qty;
          (void)apply_missed_fills(*o, venue, now);  // at the limit price: the venue did not say better
          return false;
        }
        case oms::RejectReason::order_cancelled: {
          oms::OrderUpdate c = update_of(*o, oms::UpdateKind::cancelled, now);
          apply(c);
          return false;
        }
        case oms::RejectReason::order_not_found: {
          if ((o->flags & oms::Order::kFlagAcked) != 0) return true;  // it existed: leave it to the venue's reports
          oms::OrderUpdate c = update_of(*o, oms::UpdateKind::rejected, now);
          c.reason = oms::RejectReason::order_not_found;
          c.error_code = u.error_code;
          apply(c);
          return false;
        }
        default: return true;
      }
    }
    if (u.cum_qty.raw() > o->filled.raw()) {
      oms::OrderStatusReport venue;
      venue.executed_qty = u.cum_qty;
      if (u.last_price.raw() > 0) {  // the venue's average price of every fill, as a cumulative amount
        const Instrument& in = ctx_.instruments[o->instrument];
        const int128 amount = static_cast<int128>(u.last_price.raw()) * u.cum_qty.raw();
        const int pq = in.price_scale.decimals() + in.qty_scale.decimals();
        if (pq <= 8) {
          int128 e8 = amount * static_cast<int128>(in.price_scale.multiplier()) * in.qty_scale.multiplier();
          for (int k = pq; k < 8; ++k) e8 *= 10;
          if (e8 <= INT64_MAX) venue.cum_quote_e8 = static_cast<std::int64_t>(e8);
        }
      }
      const ClientOrderId id = u.client_id;
      if (!apply_missed_fills(*o, venue, now)) return false;
      if (open_order(id) == nullptr) return false;
    }
    return true;
  }

  // After a reconnect: the venue is asked about every open order (kOrderQuery), or each is cancelled and its
  // final state learnt from the answer (settle_close). A cancel still pending went out on the old connection and
  // its answer is lost with it: it goes out again, since its strategy has already let the order go (an order
  // cancelled meanwhile answers that it is unknown or cancelled, which is harmless).
  void reconcile() noexcept {
    reconcile_ids_.clear();
    reconcile_next_ = 0;
    reconcile_status_sent_ = false;
    oms_.for_each_open([&](const oms::Order& o) { reconcile_ids_.push_back(o.client_id); });
    continue_reconcile();
  }

  // Sends as many of the reconciliation's requests as the send buffer takes (a thousand open orders are more than
  // it holds); the rest go out on later turns: as answers arrive, and on the timer.
  void continue_reconcile() noexcept {
    bool flushed = false;
    auto room = [&] {  // once per call: write what is queued, then try again
      if (flushed || !api_->is_open()) return false;
      api_->flush();
      flushed = true;
      return true;
    };
    const std::int64_t now = now_ns();
    while (reconcile_next_ < reconcile_ids_.size()) {
      const ClientOrderId id = reconcile_ids_[reconcile_next_];
      const oms::Order* o = oms_.find(id);
      if (o == nullptr || oms::is_closed(o->state)) {
        ++reconcile_next_;
        reconcile_status_sent_ = false;
        continue;
      }
      const InstrumentId instrument = o->instrument;
      if constexpr (Codec::kOrderQuery) {
        if (!reconcile_status_sent_) {
          const auto query = [&](char* out, std::size_t cap) {
            return codec_.encode_order_status(id, instrument, now, out, cap);
          };
          if (!send(query)) {
            if (room()) continue;
            break;
          }
          reconcile_status_sent_ = true;
        }
        if (o->cancel_pending() &&
            !send([&](char* out, std::size_t cap) { return codec_.encode_cancel(id, instrument, now, out, cap); })) {
          if (room()) continue;
          break;
        }
      } else {
        if (!codec_.ready()) break;  // after the logon (on_logged_on() comes back here through on_message)
        if (!send([&](char* out, std::size_t cap) { return codec_.encode_cancel(id, instrument, now, out, cap); })) {
          if (room()) continue;
          break;
        }
        if (!o->cancel_pending()) {
          (void)oms_.mark_cancel_sent(id, now);
          ctx_.counters.cancels_sent.add();
        }
      }
      ++reconcile_next_;
      reconcile_status_sent_ = false;
    }
    api_->flush();
  }

  void handle_kill() noexcept {
    kill_pending_ = false;
    ctx_.counters.kill_switch.set(1);
    cancel_everything();
  }

  GatewayContext ctx_;
  Codec codec_;
  oms::OrderManager oms_;
  risk::RiskEngine risk_;
  std::unique_ptr<net::WsClient> api_;
  std::uint64_t request_n_ = 0;
  // Per instrument, the number of the depth request awaiting its answer (0: none). Answers are matched by it: an
  // answer to a request asked again meanwhile, or to one for another instrument, never loads the wrong book.
  std::vector<std::uint64_t> depth_requests_;
  bool kill_pending_ = false;
  std::vector<ClientOrderId> scratch_ids_;
  // Reconciliation after a reconnect: the open orders' ids, the next to ask about, and whether its query already
  // went out (its re-sent cancel did not fit).
  std::vector<ClientOrderId> reconcile_ids_;
  std::size_t reconcile_next_ = 0;
  bool reconcile_status_sent_ = false;
};

}  // namespace hftx::session
