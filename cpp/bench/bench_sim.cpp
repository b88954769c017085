// The exchange simulator's market-data throughput, per venue dialect.
//
//  sim_generate/hftx            MarketGenerator::step() on one core: the random walk of a 1000-level book
//                               in the L3 matching engine, its neutral events, and the Binance dialect's JSON
//                               text of every one (depthUpdate, bookTicker, trade: venue::binance::
//                               SimMarketWriter), into a sink that only counts bytes. items = messages.
//                               Goal: >= 1M messages/s.
//  sim_generate_okx/hftx        the same walk written as the OKX dialect serves it to a books-l2-tbt + bbo-tbt
//                               + trades subscriber: every book update as a books-l2-tbt update (the changed
//                               levels within 400, the levels that left or entered the depth, order counts, the
//                               CRC32 checksum of the top 25 levels), a bbo-tbt snapshot when the top changed, a
//                               trades message per trade. items = messages.
//  sim_loopback/hftx            the simulator on its own thread (event_rate 0: as fast as the client takes
//                               it) serving btcusdt@depth@100ms + bookTicker + trade over a loopback
//                               WebSocket to an hftx WsClient on the benchmark thread, which receives every
//                               message (frames parsed, UTF-8 checked; no JSON parse). items = messages
//                               received. Goal: >= 1M events/s received. Server and client each on its own
//                               thread: on the 2-core machine they share the two cores with nothing else.
//  sim_loopback_parsed/hftx     same, and the client parses every message with venue::binance::MdParser.
//  sim_loopback_okx/hftx        the OKX dialect (venue okx) serving books-l2-tbt + bbo-tbt + trades of BTC-USDT
//                               the same way (no JSON parse on the client).
#include <atomic>
#include <memory>
#include <string>

#include "bench_support.hpp"
#include "hftx/net/websocket.hpp"
#include "hftx/sim/exchange.hpp"
#include "hftx/sim/generator.hpp"
#include "hftx/venue/binance/md_parser.hpp"
#include "hftx/venue/binance/sim_dialect.hpp"
#include "hftx/venue/okx/sim_dialect.hpp"

namespace {

// The Binance dialect's text of every event (as SimDialect writes it for a subscriber).
struct BinanceTextSink {
  hftx::venue::binance::SimMarketWriter w{"BTCUSDT", hftx::Scale::from_step("0.01"),
                                          hftx::Scale::from_step("0.00000001")};
  std::uint64_t messages = 0, bytes = 0;
  void count(std::string_view d) noexcept {
    ++messages;
    bytes += d.size();
    hftx::do_not_optimize(d.data());
  }
  void on_depth(const hftx::md::DepthUpdate& d, std::int64_t ms) noexcept { count(w.depth(d, ms)); }
  void on_top(const hftx::md::BookTicker& t, std::int64_t) noexcept { count(w.ticker(t)); }
  void on_trade(const hftx::md::Trade& t, std::int64_t ms) noexcept { count(w.trade(t, ms)); }
  void on_account_execution(const hftx::book::Execution&, std::uint64_t) noexcept {}
};

// The OKX dialect's text for a books-l2-tbt + bbo-tbt + trades subscriber (as SimDialect::on_depth / on_trade).
struct OkxTextSink {
  const hftx::sim::MarketGenerator* g = nullptr;
  hftx::venue::okx::SimMarketWriter w{"BTC-USDT", hftx::Scale::from_step("0.01"), hftx::Scale::from_step("0.00000001")};
  hftx::venue::okx::BookView view{400};
  hftx::md::Level bbo[2] = {};
  std::uint64_t messages = 0, bytes = 0;
  void count(std::string_view d) noexcept {
    ++messages;
    bytes += d.size();
    hftx::do_not_optimize(d.data());
  }
  void on_depth(const hftx::md::DepthUpdate& d, std::int64_t ms) noexcept {
    const std::string_view t = w.update(*g, "books-l2-tbt", view, d.bids, d.asks, view.seq, d.last_id, ms);
    if (!t.empty()) count(t);
    const hftx::book::Level b = g->engine().best(hftx::Side::bid), a = g->engine().best(hftx::Side::ask);
    if (!(b == bbo[0]) || !(a == bbo[1])) {
      bbo[0] = b;
      bbo[1] = a;
      count(w.top(*g, "bbo-tbt", 1, d.last_id, ms));
    }
  }
  void on_top(const hftx::md::BookTicker&, std::int64_t) noexcept {}
  void on_trade(const hftx::md::Trade& t, std::int64_t ms) noexcept { count(w.trade(t, ms)); }
  void on_account_execution(const hftx::book::Execution&, std::uint64_t) noexcept {}
};

template <class Sink>
void generate(benchmark::State& state, Sink& sink, hftx::sim::MarketGenerator& g) {
  g.seed_book();
  g.set_time_ms(1723100000000);
  for (int i = 0; i < 100000; ++i) g.step(sink);  // warm-up: the walk reaches its steady state
  sink.messages = sink.bytes = 0;
  hftx::bench::AllocMeter alloc;
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) g.step(sink);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(sink.messages));
  state.SetBytesProcessed(static_cast<std::int64_t>(sink.bytes));
  state.counters["msg_bytes"] =
      static_cast<double>(sink.bytes) / static_cast<double>(std::max<std::uint64_t>(1, sink.messages));
  alloc.publish(state);
}

hftx::sim::GeneratorConfig generator_config() {
  hftx::sim::GeneratorConfig gc;
  gc.depth_levels = 1000;
  gc.trade_probability = 0.2;
  return gc;
}

void BM_generate(benchmark::State& state) {
  hftx::sim::MarketGenerator g(generator_config());
  BinanceTextSink sink;
  generate(state, sink, g);
}
BENCHMARK(BM_generate)->Name("sim_generate/hftx")->Unit(benchmark::kMicrosecond);

void BM_generate_okx(benchmark::State& state) {
  hftx::sim::MarketGenerator g(generator_config());
  OkxTextSink sink;
  sink.g = &g;
  hftx::venue::okx::SimMarketWriter::reset_view(g, sink.view);
  generate(state, sink, g);
}
BENCHMARK(BM_generate_okx)->Name("sim_generate_okx/hftx")->Unit(benchmark::kMicrosecond);

void loopback(benchmark::State& state, hftx::sim::ExchangeConfig cfg, const std::string& url,
              const std::string& subscribe, bool parse) {
  cfg.event_rate = 0;
  cfg.depth_levels = 1000;
  hftx::sim::Exchange ex(cfg);
  ex.start();
  hftx::net::Reactor reactor;
  hftx::net::WsClientConfig cc;
  cc.url = url.empty() ? ex.market_url() : ex.market_url() + url;
  cc.read_buffer_size = 1u << 20;
  hftx::net::WsClient client(reactor, cc);
  hftx::venue::binance::MdParser parser(hftx::Scale::from_step("0.01"), hftx::Scale::from_step("0.00000001"));
  std::vector<hftx::md::Level> levels(4096);
  hftx::md::MdMessage msg;
  std::uint64_t received = 0, errors = 0;
  client.on_message = [&](hftx::net::WsConnection&, const hftx::net::WsMessage& m) {
    ++received;
    if (parse && !parser.parse_unpadded(m.data, 0, msg, levels).ok()) ++errors;
  };
  client.on_open = [&](hftx::net::WsConnection& c) {
    if (!subscribe.empty()) c.send_text(subscribe);
  };
  client.connect();
  while (received < 100000) reactor.poll(10);  // warm-up
  const std::uint64_t start = received;
  for (auto _ : state) {
    const std::uint64_t target = received + 10000;
    while (received < target) reactor.poll(10);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(received - start));
  state.counters["parse_errors"] = static_cast<double>(errors);
  state.counters["server_slow_skips"] = static_cast<double>(ex.stats().slow_skips);
  client.close();
  ex.stop();
}

void BM_loopback(benchmark::State& state, bool parse) {
  loopback(state, hftx::sim::ExchangeConfig{}, "?streams=btcusdt@depth@100ms/btcusdt@bookTicker/btcusdt@trade", "",
           parse);
}
BENCHMARK_CAPTURE(BM_loopback, plain, false)->Name("sim_loopback/hftx")->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_loopback, parsed, true)
    ->Name("sim_loopback_parsed/hftx")
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void BM_loopback_okx(benchmark::State& state) {
  hftx::sim::ExchangeConfig cfg;
  cfg.venue = "okx";
  cfg.instruments = {hftx::sim::InstrumentSpec{"BTC-USDT", "0.01", "0.00000001", "0.00001", "", ""}};
  loopback(state, cfg, "",
           R"({"op":"subscribe","args":[{"channel":"books-l2-tbt","instId":"BTC-USDT"},)"
           R"({"channel":"bbo-tbt","instId":"BTC-USDT"},{"channel":"trades","instId":"BTC-USDT"}]})",
           false);
}
BENCHMARK(BM_loopback_okx)->Name("sim_loopback_okx/hftx")->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
