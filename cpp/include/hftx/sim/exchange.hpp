// hftx/sim/exchange.hpp — the exchange simulator: a venue on the hftx WebSocket server, in the dialect of
// the venue ExchangeConfig::venue names (Binance by default, OKX).
//
// Threading contract: an Exchange runs on one reactor thread. Either
//  - attach(reactor): on the caller's reactor; the caller's thread drives reactor.poll() and must be the
//    only thread that calls any member (tests, benchmarks, one-thread setups); or
//  - start(): on a reactor and thread of its own; then every public member may be called from any thread
//    (hooks and queries are posted to the simulator's thread and waited for; stats() reads atomics).
// stop() is thread-safe and idempotent, joins the thread and closes every connection.
//
// The engine is venue-neutral (sim/engine.hpp): connections, pacing, the markets as neutral events, the
// account, matching, hooks, stats. Each venue's dialect (venue/<name>/sim_dialect.hpp) says what is served:
//  - binance: `/stream?streams=a/b/c`: Binance combined streams `<symbol>@depth`, `<symbol>@depth@100ms`,
//    `<symbol>@bookTicker`, `<symbol>@trade`, each message `{"stream":..,"data":{..}}`. Further streams can be
//    added on the connection with `{"method":"SUBSCRIBE","params":[..],"id":..}`. A stream name that is not
//    served (unknown symbol or kind) closes the connection with code 1008 and the reason
//    "unknown stream '<name>'"; an unknown path closes with 1008 "unknown path '<path>'".
//    `/ws-api/v3`: the WebSocket API: depth, order.place, order.cancel, order.status (open orders and the
//    last 100,000 closed ones; -2013 for any other), openOrders.cancelAll, userDataStream.subscribe(.signature),
//    ping, time — Binance responses, errors and executionReports.
//  - okx: `/ws/v5/public` (books, books5, bbo-tbt, books-l2-tbt, books50-l2-tbt, trades, tickers) and
//    `/ws/v5/private` (login, the orders channel, order / batch-orders / cancel-order / batch-cancel-orders /
//    amend-order), OKX v5 messages and error codes (venue/okx/sim_dialect.hpp).
// The market is generated (a seeded random walk of a full book, sim/generator.hpp) or replayed from
// recorded Binance `<ns> <json>` files (either dialect serves them). Either way the served book is the
// simulator's L3 book: the market's liquidity rests there as anonymous orders, the account's orders rest
// among them with price-time priority, and market trades (generated aggressive flow, or recorded trades)
// execute against them.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hftx/net/reactor.hpp"

namespace hftx::sim {

enum class Mode : std::uint8_t { generated, replay };
enum class Pace : std::uint8_t { recorded, fast };

// One instrument the simulator lists (the session config's `instruments` entry).
struct InstrumentSpec {
  std::string symbol;                   // the venue's own name: BTCUSDT (binance), BTC-USDT (okx)
  std::string price_step = "0.01";      // tick (PRICE_FILTER)
  std::string qty_step = "0.00000001";  // market-data quantity step (quantities are printed with its decimals)
  std::string lot_step = "0.00001";     // order quantity step (LOT_SIZE); a multiple of qty_step
  std::string base_asset;               // "" : inferred from the symbol (BTCUSDT -> BTC / USDT)
  std::string quote_asset;
};

// The contract's `simulator:` block plus the instruments. Plain values: Python converts its validated
// dict into this; a C++ program fills it directly.
struct ExchangeConfig {
  std::string venue = "binance";  // whose dialect is served (sim/engine.hpp's registry: binance, okx)
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  Mode mode = Mode::generated;
  std::uint64_t seed = 42;
  double event_rate = 20000;  // market messages/s over all symbols; 0 = as fast as the clients take them
  int depth_levels = 1000;    // generated book: levels per side
  std::string start_price = "60000.00";  // generated: the first mid (every symbol; on its tick grid)
  double trade_probability = 0.2;        // share of generated steps that are aggressive trades
  std::vector<std::string> replay_files; // mode replay: files in order (one symbol: the instruments' first)
  Pace replay_pace = Pace::recorded;
  std::int64_t latency_us = 0;  // added to every WS-API response and executionReport (timer, not sleep)
  std::vector<std::pair<std::string, std::string>> balances = {{"USDT", "10000000"}, {"BTC", "1000"}};
  std::vector<InstrumentSpec> instruments = {InstrumentSpec{"BTCUSDT", "0.01", "0.00000001", "0.00001", "", ""}};
  // Optional request authentication. With api_key set, signed requests must carry apiKey == api_key and a
  // valid signature (else -1022): HMAC-SHA256 with api_secret, or Ed25519 (base64) verified with
  // api_public_key, a PEM public key ("-----BEGIN PUBLIC KEY-----"). session.logon needs the Ed25519 key,
  // as at Binance; once it succeeds, the connection's requests may omit apiKey and signature. Empty
  // api_key: any signature is accepted and any session.logon succeeds.
  // OKX: login must carry apiKey == api_key and sign = base64 HMAC-SHA256(api_secret, timestamp + "GET" +
  // "/users/self/verify"), and passphrase == api_passphrase when one is set (api_public_key is not used).
  std::string api_key;
  std::string api_secret;
  std::string api_public_key;
  std::string api_passphrase;

  // Throws ConfigError naming `simulator.<key>` (or `instruments[i].<key>`), the value and what was expected.
  void validate() const;
};

// Which connections inject() writes to.
enum class Channel : std::uint8_t { market, api };

// The Binance dialect's error codes (index into ExchangeStats::rejects_by_code).
inline constexpr std::array<int, 9> kRejectCodes = {-1000, -1013, -1022, -1100, -1102, -1121, -2010, -2011, -1003};
// Every dialect's error codes, counted in ExchangeStats::rejects_by_venue_code (at most this many codes).
inline constexpr std::size_t kMaxRejectCodes = 32;
struct RejectCount {
  int code = 0;  // 0: unused slot (the dialect lists fewer codes)
  std::uint64_t count = 0;
};

struct ExchangeStats {
  std::uint64_t events_generated = 0;  // market messages produced (depth diffs + bookTickers + trades)
  std::uint64_t events_sent = 0;       // market messages written to connections (one per subscriber)
  std::uint64_t depth_updates = 0;
  std::uint64_t book_tickers = 0;
  std::uint64_t trades = 0;
  std::uint64_t requests = 0;          // WS-API requests
  std::uint64_t requests_lost = 0;     // WS-API requests dropped by the lose_*requests() test hooks
  std::uint64_t orders = 0;            // orders accepted (order.place; OKX: order, batch-orders elements)
  std::uint64_t fills = 0;             // executions involving an account order (each side counts)
  std::uint64_t cancels = 0;           // orders cancelled by request (order.cancel, cancelAll; OKX cancels)
  std::uint64_t amends = 0;            // orders amended by request (OKX amend-order)
  std::uint64_t rejects = 0;           // error responses (OKX: each refused element of a batch counts)
  std::uint64_t logons = 0;            // successful session.logon (OKX: login) requests
  std::uint64_t unsigned_requests = 0; // requests authenticated by their connection's logon (no signature)
  std::array<std::uint64_t, kRejectCodes.size()> rejects_by_code{};  // Binance's codes (kRejectCodes)
  std::array<RejectCount, kMaxRejectCodes> rejects_by_venue_code{};  // the serving dialect's codes, in its order
  std::uint64_t connections = 0;       // open now
  std::uint64_t market_connections = 0;
  std::uint64_t api_connections = 0;
  std::uint64_t accepted = 0;          // connections opened since start
  std::uint64_t resting_orders = 0;    // account orders resting now
  std::uint64_t slow_skips = 0;        // generation turns skipped because a subscriber's send queue was full
  std::uint64_t replay_lines = 0;      // replay: recorded lines served
  std::uint64_t replay_done = 0;       // replay: 1 once every file was served
};

// An open order of the account, as orders() reports it (side and type in the venue's words).
struct OrderInfo {
  std::string client_id;
  std::uint64_t order_id = 0;
  std::string symbol;
  std::string side;   // BUY | SELL (okx: buy | sell)
  std::string type;   // LIMIT | LIMIT_MAKER (okx: limit | post_only | ...)
  std::string price;  // decimal, tick decimals
  std::string qty;    // decimal, qty_step decimals
  std::string filled;
};

// The served book's best levels (raw steps) and the id of the last depth update that produced them.
struct Top {
  std::int64_t bid_price = 0, bid_qty = 0, ask_price = 0, ask_qty = 0;
  std::uint64_t update_id = 0;
};

class Core;  // sim/engine.hpp

class Exchange {
 public:
  // Validates the config and builds the books (generated: seeded, full depth) in the dialect of cfg.venue.
  // Nothing is bound yet.
  explicit Exchange(ExchangeConfig cfg);
  ~Exchange();  // stop()
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // Binds and serves on the caller's reactor (driven by the caller's thread). Throws SystemError when the
  // port cannot be bound (naming host:port), hftx::Error when already running.
  void attach(net::Reactor& reactor);
  // Binds, then serves on a reactor and thread of its own. Port known on return.
  void start();
  // Closes every connection and stops serving; joins the thread (start()). Thread-safe, idempotent.
  void stop();
  [[nodiscard]] bool running() const noexcept { return running_.load(std::memory_order_acquire); }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_.load(std::memory_order_acquire); }
  [[nodiscard]] std::string market_url() const;  // ws://HOST:PORT/stream (okx: /ws/v5/public)
  [[nodiscard]] std::string api_url() const;     // ws://HOST:PORT/ws-api/v3 (okx: /ws/v5/private)
  [[nodiscard]] const ExchangeConfig& config() const noexcept { return cfg_; }

  [[nodiscard]] ExchangeStats stats() const noexcept;  // any thread (relaxed counters)

  // ---- test hooks -------------------------------------------------------------------------------------
  // Aborts every connection (no close frame: the clients see 1006).
  void drop_connections();
  // Aborts the connections of one channel only (market streams or the WebSocket API).
  void drop_connections(Channel channel);
  // From now on, WS-API requests arriving on the API connections open now are dropped unanswered, as if
  // lost on the wire (counted in requests_lost). Connections opened later are not affected, so a
  // drop_connections() after it leaves the client with requests the venue never saw.
  void lose_requests();
  // The next `n` depth requests, on any API connection, are dropped unanswered (counted in requests_lost).
  // (A dialect without snapshot requests, OKX, has none to drop.)
  void lose_depth_requests(std::size_t n);
  // The next depth update of `symbol` starts one id late (U = last u + 2; OKX: prevSeqId is not the last
  // seqId): subscribers see a gap.
  // Throws ConfigError for a symbol that is not listed.
  void skip_sequence(std::string_view symbol);
  // Stops (true) or resumes market generation / replay: the book then changes only through orders.
  void pause_market(bool paused);
  // Sends `text` as a text frame to every open connection of that kind (malformed JSON, unknown reports).
  void inject(Channel channel, std::string text);

  // ---- queries ----------------------------------------------------------------------------------------
  [[nodiscard]] std::vector<OrderInfo> orders() const;  // open account orders, by order id
  // Free balance per asset (decimal, 8 decimals), and free+locked when total is true.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> balances(bool total = false) const;
  [[nodiscard]] Top top(std::string_view symbol) const;
  // The served book, best first, at most `limit` levels per side (raw steps).
  [[nodiscard]] std::pair<std::vector<std::pair<std::int64_t, std::int64_t>>,
                          std::vector<std::pair<std::int64_t, std::int64_t>>>
  book(std::string_view symbol, std::size_t limit) const;

  // Runs market generation by hand (attach() setups, benchmarks): `n` generator steps now, ignoring
  // event_rate. Owner thread only.
  void generate(std::size_t n);

 private:
  template <class F>
  auto on_loop(F&& f) const;

  ExchangeConfig cfg_;
  std::unique_ptr<Core> impl_;
  std::atomic<bool> running_{false};
  std::atomic<std::uint16_t> port_{0};
};

}  // namespace hftx::sim
