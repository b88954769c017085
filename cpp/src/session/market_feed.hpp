// session/market_feed.hpp (internal) — a session's market side: the market connection, each instrument's venue
// parser and book-sync rules, and the books. docs/ARCHITECTURE.md, "The tick-to-trade path".
//
// Threading contract: one thread (the inline session thread or the pipelined feed thread) calls every member and
// owns the connection's reactor; the sink runs on that thread, inside on_message().
//
// MarketFeed<V, Sink> is the venue's feed protocol (V::FeedProtocol: the connection URL, subscriptions, routing a
// message to its instrument), parser (V::MdParser) and sync rules (V::Sync) around the neutral book, and it hands
// every book event and trade to Sink at compile time (Sink::on_book / Sink::on_trade: the inline loop's
// strategies, or the pipelined loop's worker queues): no virtual call between a message and the strategies.
//
// Snapshots come one of two ways (V::kSnapshotsByRequest): requested on an order-API connection and answered there
// (Binance: request_snapshots_through() wires a gateway), or in the stream itself after (re)subscribing (OKX: a
// book that falls out of step resubscribes its channel on this connection).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hftx/core/clock.hpp"
#include "hftx/latency/tracker.hpp"
#include "hftx/book/sync.hpp"
#include "hftx/md/events.hpp"
#include "hftx/md/parse.hpp"
#include "hftx/net/reactor.hpp"
#include "hftx/net/websocket.hpp"
#include "hftx/strategy/strategy.hpp"
#include "session/order_gateway.hpp"
#include "session/state.hpp"

namespace hftx::session {

// What a feed reads and writes of the session.
struct FeedContext {
  const SessionConfig& cfg;
  std::span<Instrument> instruments;
  Counters& counters;
  TimelineLogs& logs;
  LatencyTracker::Recorder& recorder;
  Failure& failure;
};

template <class V, class Sink>
class MarketFeed {
  using Protocol = typename V::FeedProtocol;
  using Parser = typename V::MdParser;
  using Sync = typename V::template Sync<SessionBook>;

 public:
  MarketFeed(const FeedContext& ctx, net::Reactor& reactor, Sink& sink)
      : ctx_(ctx), sink_(sink), protocol_(ctx.cfg.venue, symbols(ctx.instruments)), levels_(kMaxLevelsPerMessage) {
    // One parser and one sync per instrument (each has its own tick and step).
    for (InstrumentId i = 0; i < ctx.instruments.size(); ++i) {
      const Instrument& in = ctx.instruments[i];
      parsers_.emplace_back(in.price_scale, in.qty_scale, std::size_t{1} << 20);
      syncs_.push_back(V::template make_sync<SessionBook>(*in.book, ctx.cfg.venue, in.price_scale, in.qty_scale));
      if constexpr (!V::kSnapshotsByRequest)
        syncs_.back()->on_snapshot_request([this, i](std::int64_t) { resubscribe(i); });
    }
    ws_ = std::make_unique<net::WsClient>(reactor, ws_config(ctx.cfg, protocol_.url(ctx.cfg.venue.market_url)));
    ws_->on_message = [this](net::WsConnection&, const net::WsMessage& m) { on_message(m); };
    ws_->on_open = [this](net::WsConnection&) {
      protocol_.on_open([this](std::string_view text) { return send(text); });
    };
    ws_->on_reconnect_failed = [this](net::WsClient&, const std::string& error, bool giving_up) {
      ctx_.counters.reconnect_failures.add();
      if (giving_up) ctx_.failure.raise("market connection: " + error);
    };
    ws_->on_reconnect = [this](net::WsClient&, unsigned) {
      ctx_.counters.reconnects.add();
      const std::int64_t now = now_ns();
      for (auto& s : syncs_) {
        s->reset(now);
        s->start(now);
      }
    };
  }

  void connect() {
    ws_->connect();
    const std::int64_t now = now_ns();
    for (auto& s : syncs_) s->start(now);
  }
  void close() { ws_->close(); }
  // Timer: snapshot requests held back or timed out; the venue's keep-alive (OKX closes a quiet connection).
  void poll(std::int64_t now) noexcept {
    for (auto& s : syncs_) s->poll(now);
    protocol_.poll(now, [this](std::string_view text) { return send(text); });
  }

  // Every book's depth snapshots are asked for on `api` (the inline order connection, or the pipelined feed's own):
  // its requests, its answers by instrument, and asking again when it reconnects. Venues whose snapshots come in
  // the stream need none.
  template <class Gateway>
  void request_snapshots_through(Gateway& api) {
    static_assert(V::kSnapshotsByRequest);
    api.on_depth = [this](InstrumentId i, std::string_view json, std::int64_t ns) { on_api_snapshot(i, json, ns); };
    api.on_reconnected = [this] {
      const std::int64_t now = now_ns();
      for (auto& s : syncs_) s->request_again(now);
    };
    for (InstrumentId i = 0; i < syncs_.size(); ++i)
      syncs_[i]->on_snapshot_request([&api, i](std::int64_t) { api.request_depth(i); });
  }

  net::WsClient& connection() noexcept { return *ws_; }
  [[nodiscard]] bool synced(InstrumentId i) const noexcept { return syncs_[i]->synced(); }

  // One market message: receive → route → parse → book (top first: act on the top the diff's first levels settle,
  // then read and apply the rest) → the sink (strategies) → the venue's checksum, verified after acting.
  void on_message(const net::WsMessage& m) noexcept {
    const std::uint64_t t_read = ws_->read_ticks();
    LatencyTracker::Recorder& rec = ctx_.recorder;
    rec.begin(t_read);
    rec.stamp(Stage::receive);
    const std::int64_t recv_ns = now_ns();
    const int idx = protocol_.route(m.data);
    if (HFTX_UNLIKELY(idx < 0)) {
      if (idx != Protocol::kControl) {  // a subscription's answer, a pong: not market data
        ctx_.counters.md_messages.add();
        ctx_.counters.md_errors.add();
      }
      return;
    }
    ctx_.counters.md_messages.add();
    const auto id = static_cast<InstrumentId>(idx);
    Instrument& in = ctx_.instruments[id];
    Parser& parser = parsers_[id];
    Sync& sync = *syncs_[id];
    const std::size_t capacity = m.data.size() + net::kMessagePadding;
    md::ParseResult r;
    if constexpr (V::kTopFirst) {
      r = ctx_.cfg.top_first && sync.predicts_top() ? parser.parse_deferred(m.data, capacity, recv_ns, msg_, levels_)
                                                    : parser.parse(m.data, capacity, recv_ns, msg_, levels_);
    } else {
      r = parser.parse(m.data, capacity, recv_ns, msg_, levels_);
    }
    if (HFTX_UNLIKELY(!r.ok() || !(msg_.symbol == in.symbol))) {
      ctx_.counters.md_errors.add();
      return;
    }
    const std::uint64_t t_parse = TscClock::ticks();
    rec.stamp(Stage::parse, t_parse);
    switch (msg_.kind) {
      case md::MdKind::depth_update: on_diff(in, id, parser, sync, recv_ns, t_read, t_parse); break;
      case md::MdKind::depth_snapshot: on_stream_snapshot(in, id, sync, recv_ns, t_read, t_parse); break;
      case md::MdKind::book_ticker: ctx_.counters.book_tickers.add(); break;
      case md::MdKind::trade:
        on_trade(id, recv_ns);
        if constexpr (V::kTradeBatches)  // several trades in one message (OKX): the parser keeps the rest
          while (parser.next_trade(msg_)) on_trade(id, recv_ns);
        break;
      default: break;
    }
  }

 private:
  static std::vector<std::string> symbols(std::span<const Instrument> ins) {
    std::vector<std::string> out;
    for (const Instrument& in : ins) out.push_back(in.cfg.symbol);
    return out;
  }

  bool send(std::string_view text) noexcept { return ws_->send_text(text) == net::SendStatus::kOk; }

  // A stream's subscription of one instrument's book, again (venues whose snapshots come in the stream).
  void resubscribe(InstrumentId i) noexcept {
    protocol_.resubscribe(i, [this](std::string_view text) { return send(text); });
    ws_->flush();
  }

  void on_api_snapshot(InstrumentId i, std::string_view json, std::int64_t recv_ns) noexcept {
    const md::ParseResult r = parsers_[i].parse(json, json.size() + net::kMessagePadding, recv_ns, msg_, levels_);
    if (!r.ok() || msg_.kind != md::MdKind::depth_snapshot) {
      ctx_.counters.md_errors.add();
      return;
    }
    syncs_[i]->on_snapshot(msg_);  // ignored (and counted) unless a snapshot is awaited
  }

  void on_trade(InstrumentId id, std::int64_t recv_ns) noexcept {
    ctx_.counters.trades.add();
    strategy::TradeEvent ev;
    ev.instrument = id;
    ev.price = msg_.trade.price;
    ev.qty = msg_.trade.qty;
    ev.buyer_is_maker = msg_.trade.buyer_is_maker;
    ev.trade_id = msg_.trade.id;
    ev.recv_ns = recv_ns;
    sink_.on_trade(id, ev);
  }

  // The strategies' turn on a book event (the top from the applied book, or predicted from the diff).
  HFTX_FORCE_INLINE void act(Instrument& in, InstrumentId id, const strategy::BookEvent& ev,
                             std::uint64_t t_parse) noexcept {
    const std::uint64_t t_book = TscClock::ticks();
    ctx_.recorder.stamp(Stage::book, t_book);
    sample_mid(in, id, ev.top, *ctx_.logs.mids);
    sink_.on_book(id, ev, t_parse, t_book);
  }

  // The applied book's top, as strategies see it.
  static void applied_top(const SessionBook& book, book::TopOfBook& top) noexcept {
    const md::Level bb = book.best_bid();
    const md::Level ba = book.best_ask();
    top.bid_price = bb.price.raw();
    top.bid_qty = bb.qty.raw();
    top.ask_price = ba.price.raw();
    top.ask_qty = ba.qty.raw();
    top.update_id = book.update_id();
    top.flags = book::kTopSynced | (book.is_crossed() ? book::kTopCrossed : 0u);
  }

  // Counts what a sync call did to the book's continuity.
  struct SyncCounts {
    std::uint64_t gaps, crossed, mismatches;
  };
  static SyncCounts counts(const Sync& s) noexcept {
    return {s.stats().gaps, s.stats().crossed, s.stats().checksum_mismatches};
  }
  void count_since(const Sync& s, const SyncCounts& before) noexcept {
    const SyncCounts after = counts(s);
    if (after.gaps != before.gaps) {
      ctx_.counters.gaps.add();
      ctx_.counters.resyncs.add();
    }
    if (after.crossed != before.crossed) ctx_.counters.crossed.add();
    if (after.mismatches != before.mismatches) ctx_.counters.checksum_mismatches.add();
  }

  void on_diff(Instrument& in, InstrumentId id, Parser& parser, Sync& sync, std::int64_t recv_ns, std::uint64_t t_read,
               std::uint64_t t_parse) noexcept {
    ctx_.counters.depth_updates.add();
    strategy::BookEvent ev;
    ev.instrument = id;
    ev.top.recv_ns = recv_ns;
    ev.begin_ticks = t_read;
    // Top first: when the diff continues the synced book and its first levels settle the top, the strategies act
    // on it before the rest of the diff is read and applied (tick-to-trade then no longer grows with the diff's
    // size: the recorded p99 Binance diff carries ~390 levels).
    bool acted = false;
    if constexpr (V::kTopFirst) {
      if (parser.deferred()) {
        if (sync.predict_top(parser, msg_.depth, ev.top)) {
          ev.top.update_id = msg_.depth.last_id;
          ev.top.flags = book::kTopSynced;
          in.book->publish_top(ev.top);  // the order gateway's risk reference mid is read from it
          ctx_.counters.top_first.add();
          act(in, id, ev, t_parse);
          acted = true;
        }
        if (HFTX_UNLIKELY(!parser.read_deferred(msg_).ok())) {  // acted on or not, the book misses it and resyncs
          ctx_.counters.md_errors.add();
          return;
        }
      }
    }
    const SyncCounts before = counts(sync);
    const book::DiffOutcome out = sync.on_diff(msg_);
    count_since(sync, before);
    if (out != book::DiffOutcome::applied) return;
    const book::TopOfBook predicted = ev.top;
    applied_top(*in.book, ev.top);
    if (acted) {
      if (HFTX_LIKELY(predicted.bid_price == ev.top.bid_price && predicted.bid_qty == ev.top.bid_qty &&
                      predicted.ask_price == ev.top.ask_price && predicted.ask_qty == ev.top.ask_qty)) {
        verify(sync, recv_ns);
        return;
      }
      // Among the levels the prediction did not read, some were out of the venue's order (a price twice, or out
      // of sequence; never in the recordings): the strategies get the applied top too.
      ctx_.counters.top_first_mismatch.add();
    }
    act(in, id, ev, t_parse);
    verify(sync, recv_ns);
  }

  // A snapshot in the stream (OKX after (re)subscribing, and every books5 / bbo-tbt message): the book is loaded
  // and, once in step, the strategies act on it.
  void on_stream_snapshot(Instrument& in, InstrumentId id, Sync& sync, std::int64_t recv_ns, std::uint64_t t_read,
                          std::uint64_t t_parse) noexcept {
    if constexpr (V::kSnapshotsByRequest) {
      (void)in, (void)id, (void)recv_ns, (void)t_read, (void)t_parse;
      sync.on_snapshot(msg_);  // a Binance snapshot in the stream: loaded only when awaited
    } else {
      ctx_.counters.depth_updates.add();
      const SyncCounts before = counts(sync);
      sync.on_snapshot(msg_);
      count_since(sync, before);
      if (!sync.synced()) return;
      strategy::BookEvent ev;
      ev.instrument = id;
      ev.top.recv_ns = recv_ns;
      ev.begin_ticks = t_read;
      applied_top(*in.book, ev.top);
      act(in, id, ev, t_parse);
      verify(sync, recv_ns);
    }
  }

  // The venue's checksum of the book, where it sends one: computed after the strategies acted (a CRC over the top
  // of the book costs ~a microsecond, which must not sit in tick-to-trade). A mismatch resyncs the book (counted).
  HFTX_FORCE_INLINE void verify(Sync& sync, std::int64_t recv_ns) noexcept {
    if constexpr (V::kDeferredChecksum) {
      const SyncCounts before = counts(sync);
      (void)sync.verify_pending(recv_ns);
      count_since(sync, before);
    } else {
      (void)sync, (void)recv_ns;
    }
  }

  FeedContext ctx_;
  Sink& sink_;
  Protocol protocol_;
  std::unique_ptr<net::WsClient> ws_;
  std::vector<Parser> parsers_;
  std::vector<std::unique_ptr<Sync>> syncs_;
  md::MdMessage msg_;
  std::vector<md::Level> levels_;
};

}  // namespace hftx::session
