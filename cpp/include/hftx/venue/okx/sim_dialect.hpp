// hftx/venue/okx/sim_dialect.hpp — the exchange simulator's OKX dialect: a simulated OKX v5 (spot, cash)
// over the simulator's venue-neutral engine (sim/engine.hpp).
//
// Threading contract: a SimDialect is owned by its engine and runs on the simulator's reactor thread only.
// SimMarketWriter is a single-threaded helper (one per instrument and thread).
//
// /ws/v5/public: {"op":"subscribe"|"unsubscribe","args":[{"channel":..,"instId":..}]} answered by `event`
// messages (errors: 60012 invalid request, 60013 invalid args, 60018 unknown channel or instrument, 64004
// books-l2-tbt beside books/books50-l2-tbt on one connection, 60019 unknown op), the text `ping` by `pong`.
//  - books (400 levels; the changes of each 100 ms in one update), books-l2-tbt (400) and books50-l2-tbt (50),
//    every change: a snapshot (action "snapshot", prevSeqId -1) then updates, each with the served book's
//    `checksum` (checksum.hpp, top 25 levels) and seqId / prevSeqId (the previous message's seqId: a skipped
//    sequence shows as prevSeqId != last seqId). A depth-limited channel also sends the levels that leave or
//    enter its depth. Levels ["px","sz","0","orders"], numbers as OKX writes them (shortest decimals).
//  - books5 (the top 5, every 100 ms when they changed), bbo-tbt (the top, on every change), trades (each
//    trade), tickers (every 100 ms when something changed; 24 h figures since the simulator started).
// /ws/v5/private: login ({"op":"login","args":[{apiKey, passphrase, timestamp, sign}]}: with api_key configured,
// sign must be base64 HMAC-SHA256(api_secret, timestamp + "GET" + "/users/self/verify"), the timestamp within
// 30 s of now, the passphrase api_passphrase when one is set: else 60005 / 60024 / 60004 / 60006 / 60007 /
// 60009), then subscribe to `orders` and the trade ops order, batch-orders (<= 20), cancel-order,
// batch-cancel-orders (<= 20), amend-order, each answered {"id","op","code","msg","data":[{clOrdId, ordId,
// sCode, sMsg, ..}],"inTime","outTime"}; requests before login get 60011. Orders in cash (tdMode "cash"):
// limit, post_only (one that would take is accepted, then canceled with cancelSource 31), ioc, fok, market
// (a market buy's sz is in the quote asset unless tgtCcy is base_ccy). The orders channel pushes every change
// of an account order (live, partially_filled, filled, canceled with fillPx, fillSz, tradeId, execType T/M,
// accFillSz, avgPx, uTime, fillTime, cTime, cancelSource, amendResult, reqId).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "hftx/core/fixed_point.hpp"
#include "hftx/md/events.hpp"
#include "hftx/sim/engine.hpp"
#include "hftx/sim/generator.hpp"

namespace hftx::venue::okx {

// The dialect's registry entry (its line in cpp/src/registry.cpp).
[[nodiscard]] sim::DialectInfo sim_dialect_info();

// What the subscribers of one depth-limited incremental channel hold of a book: its top `depth` levels per side.
struct BookView {
  std::size_t depth = 400;
  std::size_t count[2] = {0, 0};  // levels held per side (bid, ask); < depth: the whole side
  std::int64_t worst[2] = {0, 0};  // the deepest level's price per side (count > 0)
  std::uint64_t seq = 0;           // the last seqId its holders got
};

// OKX's public messages of one instrument, written from the served book and neutral events into one reusable
// buffer (no allocation once it holds the largest message; no printf). Each result is valid until the next call.
class SimMarketWriter {
 public:
  SimMarketWriter(std::string inst_id, const Scale& price_scale, const Scale& qty_scale);

  // The view `view` holds after a snapshot of the book now.
  static void reset_view(const sim::MarketGenerator& g, BookView& view) noexcept;
  // {"arg":{"channel":..,"instId":..},"action":"snapshot","data":[{"asks":..,"bids":..,"ts":..,"checksum":..,
  // "prevSeqId":-1,"seqId":seq}]}: the top view.depth levels; resets the view.
  std::string_view snapshot(const sim::MarketGenerator& g, std::string_view channel, BookView& view,
                            std::uint64_t seq, std::int64_t ms) noexcept;
  // The update that takes a view's holder from the book it held to the book now, given the prices that changed
  // since (bids, asks; quantities are read from the book): the changed levels within the depth, the levels
  // that left it (size 0) and those that entered it. Updates the view. Empty when no level of the view changed
  // (the holder's book is unchanged: OKX sends nothing).
  std::string_view update(const sim::MarketGenerator& g, std::string_view channel, BookView& view,
                          std::span<const md::Level> bids, std::span<const md::Level> asks, std::uint64_t prev_seq,
                          std::uint64_t seq, std::int64_t ms) noexcept;
  // books5 / bbo-tbt: the top `depth` levels whole (books5 also names instId in data).
  std::string_view top(const sim::MarketGenerator& g, std::string_view channel, std::size_t depth, std::uint64_t seq,
                       std::int64_t ms) noexcept;
  // trades: {"arg":..,"data":[{"instId":..,"tradeId":..,"px":..,"sz":..,"side":"buy"|"sell","ts":..,"count":"1"}]}
  std::string_view trade(const md::Trade& t, std::int64_t ms) noexcept;
  // The checksum of the book's top 25 levels (checksum.hpp's book_checksum), as the book's holders compute it.
  // Kept until a change reaches the top 25 levels: note() must see every change of the book.
  [[nodiscard]] std::int32_t checksum(const sim::MarketGenerator& g) noexcept;
  // A change of the book at these prices (a depth update's levels).
  void note(std::span<const md::Level> bids, std::span<const md::Level> asks) noexcept;
  [[nodiscard]] const std::string& inst_id() const noexcept { return inst_id_; }
  [[nodiscard]] const Scale& price_scale() const noexcept { return price_scale_; }
  [[nodiscard]] const Scale& qty_scale() const noexcept { return qty_scale_; }

 private:
  struct Out {
    std::int64_t price, qty;
    std::uint32_t orders;
  };
  void diff_side(const sim::MarketGenerator& g, Side s, BookView& view, std::span<const md::Level> touched,
                 std::vector<Out>& out) noexcept;
  char* reserve(std::size_t levels) noexcept;
  char* head(char* p, std::string_view channel) const noexcept;
  char* level(char* p, std::int64_t price, std::int64_t qty, std::uint32_t orders) const noexcept;
  char* side_levels(char* p, const sim::MarketGenerator& g, Side s, std::size_t n) const noexcept;

  std::string inst_id_;
  Scale price_scale_, qty_scale_;
  std::vector<char> buf_;
  std::vector<Out> out_[2];
  // The last checksum and the top-25 range it covered: a change beyond it leaves the checksum as it was.
  bool cs_valid_ = false;
  std::int32_t cs_value_ = 0;
  std::size_t cs_count_[2] = {0, 0};
  std::int64_t cs_worst_[2] = {0, 0};
};

class SimDialect {
 public:
  using Engine = sim::Engine<SimDialect>;
  using Conn = sim::Core::Conn;
  using Order = sim::Core::Order;
  using Fill = sim::Core::Fill;

  // Stream kinds (subscriptions per instrument).
  enum Kind : std::uint8_t { kBooks, kBooks5, kBboTbt, kBooksL2Tbt, kBooks50L2Tbt, kTrades, kTickers };
  static constexpr std::size_t kStreamKinds = 7;
  static constexpr int kTickMs = 100;  // books, books5 and tickers go out every 100 ms when something changed
  static constexpr std::size_t kMaxBatch = 20;
  [[nodiscard]] static sim::DialectInfo info() { return sim_dialect_info(); }
  [[nodiscard]] static std::span<const int> reject_codes() noexcept;
  [[nodiscard]] static const char* side_text(Side s) noexcept { return s == Side::bid ? "buy" : "sell"; }
  [[nodiscard]] static std::string type_text(const Order& o);

  explicit SimDialect(Engine& e);
  ~SimDialect();
  SimDialect(const SimDialect&) = delete;
  SimDialect& operator=(const SimDialect&) = delete;

  bool on_open(Engine& e, Conn& c, std::string_view path, std::string_view query);
  void on_message(Engine& e, Conn& c, std::string_view text);
  void on_close(Engine& e, Conn& c);
  void on_tick(Engine& e);
  void on_depth(Engine& e, std::uint32_t inst, const md::DepthUpdate& d, std::int64_t ms, sim::Recorded rec) noexcept;
  void on_top(Engine& e, std::uint32_t inst, const md::BookTicker& t, std::int64_t ms, sim::Recorded rec) noexcept;
  void on_trade(Engine& e, std::uint32_t inst, const md::Trade& t, std::int64_t ms, sim::Recorded rec) noexcept;
  void on_fill(Engine& e, const Order& o, const Fill& f);

  struct Arg;      // one element of args[]: key -> value text
  struct Request;  // {"id","op","args"}

 private:
  struct Inst;
  struct Private;  // per private connection: its orders subscription
  struct Element {  // one element's answer
    std::string cl_ord_id, ord_id, req_id;
    int code = 0;
    std::string msg;
  };

  // public
  void handle_public(Engine& e, Conn& c, const Request& r, std::string_view text);
  void subscribe(Engine& e, Conn& c, const Request& r, const Arg& a, bool sub);
  void send_event_error(Engine& e, Conn& c, const Request& r, int code, const std::string& msg);
  void send_snapshot(Engine& e, Conn& c, std::uint32_t inst, std::uint8_t kind);
  void flush_books(Engine& e, std::uint32_t inst, std::int64_t ms);
  // private
  void handle_private(Engine& e, Conn& c, const Request& r, std::string_view text);
  void login(Engine& e, Conn& c, const Request& r);
  void subscribe_orders(Engine& e, Conn& c, const Request& r, const Arg& a, bool sub);
  void trade_op(Engine& e, Conn& c, const Request& r);
  Element place(Engine& e, const Arg& a);
  Element cancel(Engine& e, const Arg& a);
  Element amend(Engine& e, const Arg& a);
  void answer(Engine& e, Conn& c, const Request& r, const std::vector<Element>& data, std::int64_t in_us, int code = -1,
              const std::string& msg = {});
  // orders channel
  void push_order(Engine& e, const Order& o, const char* state, const Fill* f, const char* cancel_source,
                  const std::string& req_id = {}, const char* amend_result = "");
  [[nodiscard]] std::string conn_id(const Conn& c) const;
  bool parse(std::string_view text, Request& r);

  std::vector<Inst> insts_;
  std::unordered_map<std::uint64_t, Private> private_;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> pending_books_;  // (conn, instrument): snapshot at next tick
  simdjson::ondemand::parser json_;
  std::string scratch_;
};

}  // namespace hftx::venue::okx
