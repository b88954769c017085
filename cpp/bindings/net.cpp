// The WebSocket client and echo/test server for Python (tools and tests; the trading hot path stays in C++).
//
// Each Python object owns its own Reactor and is driven from the calling thread: recv() runs reactor turns
// with the GIL released until a message arrives, the connection closes or the timeout passes. Messages
// are copied out of the receive buffer into Python objects (Python needs owned objects anyway).
#include <pybind11/stl.h>

#include <chrono>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "hftx/net/websocket.hpp"
#include "register.hpp"

namespace hftx::py {
namespace {

using namespace hftx::net;

// The connection ended; carries the close code and reason (Python: hftx.ConnectionClosedError).
class WsClosedError : public ConnectionError {
 public:
  WsClosedError(const WsCloseInfo& info)
      : ConnectionError(describe(info)), code_(info.code), reason_(info.reason), clean_(info.clean) {}
  static std::string describe(const WsCloseInfo& info) {
    std::string s = info.clean ? "connection closed: code " : "connection failed: code ";
    s += std::to_string(info.code);
    if (!info.reason.empty()) s += " (" + info.reason + ")";
    if (!info.error.empty()) s += ": " + info.error;
    return s;
  }
  int code_;
  std::string reason_;
  bool clean_;
};

pyb::dict close_dict(const WsCloseInfo& c) {
  pyb::dict d;
  d["code"] = c.code;
  d["reason"] = c.reason;
  d["clean"] = c.clean;
  d["by_peer"] = c.by_peer;
  d["error"] = c.error;
  return d;
}

pyb::dict stats_dict(const WsStats& s) {
  pyb::dict d;
  d["messages_received"] = s.messages_received;
  d["bytes_received"] = s.bytes_received;
  d["messages_sent"] = s.messages_sent;
  d["bytes_sent"] = s.bytes_sent;
  d["pings_received"] = s.pings_received;
  d["pongs_received"] = s.pongs_received;
  d["backpressure_events"] = s.backpressure_events;
  return d;
}

std::chrono::milliseconds ms(double seconds, const char* key) {
  if (seconds < 0) throw ConfigError(std::string(key) + "=" + std::to_string(seconds) + ": expected seconds >= 0");
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0));
}

class PyWsClient {
 public:
  PyWsClient(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
             const std::vector<std::string>& subprotocols, double connect_timeout, const std::string& ca_file,
             bool verify, std::size_t max_message_size, double ping_interval, double ping_timeout, bool reconnect) {
    WsClientConfig cfg;
    cfg.url = url;
    cfg.headers = headers;
    cfg.subprotocols = subprotocols;
    cfg.connect_timeout_ms = static_cast<int>(ms(connect_timeout, "connect_timeout").count());
    cfg.tls.ca_file = ca_file;
    cfg.tls.verify = verify;
    cfg.max_message_size = max_message_size;
    cfg.ping_interval = ms(ping_interval, "ping_interval");
    cfg.ping_timeout = ms(ping_timeout, "ping_timeout");
    cfg.reconnect = reconnect;
    client_ = std::make_unique<WsClient>(reactor_, std::move(cfg));
    client_->on_message = [this](WsConnection&, const WsMessage& m) {
      inbox_.push_back({m.is_text(), std::string(m.data)});
    };
    client_->on_close = [this](WsConnection&, const WsCloseInfo& info) { closed_ = info; };
    client_->on_open = [this](WsConnection&) {
      closed_.reset();
      ++opens_;
    };
  }

  void connect() {
    pyb::gil_scoped_release release;
    client_->connect();
  }

  void send(const pyb::object& data) {
    SendStatus st;
    if (pyb::isinstance<pyb::str>(data)) {
      const std::string s = data.cast<std::string>();
      st = client_->send_text(s);
    } else if (pyb::isinstance<pyb::bytes>(data) || pyb::isinstance<pyb::bytearray>(data) ||
               pyb::isinstance<pyb::memoryview>(data)) {
      const std::string s = pyb::bytes(data).cast<std::string>();
      st = client_->send_binary(s.data(), s.size());
    } else {
      throw pyb::type_error("send() takes str (a text message) or bytes (a binary message)");
    }
    check(st);
    pyb::gil_scoped_release release;
    client_->flush();
  }

  void ping(const pyb::bytes& data) {
    check(client_->ping(data.cast<std::string>(), true));
    pyb::gil_scoped_release release;
    client_->flush();
  }

  // The next message (str or bytes); None when `timeout` passes first. Raises ConnectionClosedError once the
  // connection has ended and every received message was read.
  pyb::object recv(std::optional<double> timeout) {
    {
      pyb::gil_scoped_release release;
      const auto deadline = std::chrono::steady_clock::now() +
                            (timeout ? ms(*timeout, "timeout") : std::chrono::milliseconds(INT64_MAX / 2'000'000));
      while (inbox_.empty() && !(closed_ && !client_->backoff_pending())) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) break;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        reactor_.poll(static_cast<int>(std::min<long long>(left + 1, 100)));
        // Let Ctrl-C through: PyErr_CheckSignals needs the GIL.
        pyb::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) throw pyb::error_already_set();
      }
    }
    if (!inbox_.empty()) {
      Msg m = std::move(inbox_.front());
      inbox_.pop_front();
      if (m.text) return pyb::str(m.data);
      return pyb::bytes(m.data);
    }
    if (closed_ && !client_->backoff_pending()) throw WsClosedError(*closed_);
    return pyb::none();  // timed out (possibly while a reconnect is pending)
  }

  // Starts the close handshake and waits (up to timeout) for it to finish.
  void close(int code, const std::string& reason, double timeout) {
    if (code < 1000 || code > 4999 || !is_valid_close_code(static_cast<std::uint16_t>(code)))
      throw ConfigError("close code " + std::to_string(code) + ": expected 1000-1003, 1007-1014 or 3000-4999");
    pyb::gil_scoped_release release;
    client_->close(static_cast<std::uint16_t>(code), reason);
    const auto deadline = std::chrono::steady_clock::now() + ms(timeout, "timeout");
    while (client_->state() != WsConnection::State::kClosed && client_->state() != WsConnection::State::kIdle &&
           std::chrono::steady_clock::now() < deadline)
      reactor_.poll(10);
    if (client_->state() != WsConnection::State::kClosed && client_->state() != WsConnection::State::kIdle)
      client_->abort("close handshake timed out");
  }

  pyb::object close_info() const { return closed_ ? pyb::object(close_dict(*closed_)) : pyb::none(); }
  bool is_open() const { return client_->is_open(); }
  std::string subprotocol() const { return client_->subprotocol(); }
  unsigned reconnects() const { return client_->reconnects(); }
  pyb::dict stats() const { return stats_dict(client_->stats()); }
  std::size_t pending() const { return inbox_.size(); }
  std::vector<std::string> socket_notes() const { return client_->socket_report().notes; }

 private:
  static void check(SendStatus st) {
    switch (st) {
      case SendStatus::kOk:
        return;
      case SendStatus::kBackpressure:
        throw ConnectionError("send refused: the peer is not reading (send buffer at max_write_buffer)");
      case SendStatus::kTooBig:
        throw ConfigError("ping payload: expected at most 125 bytes");
      case SendStatus::kClosed:
        throw ConnectionError("send on a connection that is not open");
    }
  }
  struct Msg {
    bool text;
    std::string data;
  };
  Reactor reactor_;
  std::unique_ptr<WsClient> client_;
  std::deque<Msg> inbox_;
  std::optional<WsCloseInfo> closed_;
  unsigned opens_ = 0;
};

// run() may sit in another Python thread (GIL released): everything that touches the server goes
// through Reactor::post(), and the counters Python reads are atomics.
class PyWsServer {
 public:
  PyWsServer(const std::string& host, std::uint16_t port, bool echo, const std::string& cert_file,
             const std::string& key_file, const std::vector<std::string>& subprotocols, std::size_t max_message_size,
             std::size_t max_connections, std::size_t max_pending_handshakes) {
    WsServerConfig cfg;
    cfg.max_connections = max_connections;
    cfg.max_pending_handshakes = max_pending_handshakes;
    cfg.host = host;
    cfg.port = port;
    cfg.subprotocols = subprotocols;
    cfg.max_message_size = max_message_size;
    if (!cert_file.empty() || !key_file.empty()) cfg.tls = TlsContext::server(cert_file, key_file);
    tls_ = cfg.tls != nullptr;
    server_ = std::make_unique<WsServer>(reactor_, std::move(cfg));
    port_ = server_->port();
    server_->on_message = [this, echo](WsConnection& c, const WsMessage& m) {
      messages_.fetch_add(1, std::memory_order_relaxed);
      if (echo) c.send(m.opcode, m.data.data(), m.data.size());
    };
    server_->on_open = [this](WsConnection&) {
      accepted_.fetch_add(1, std::memory_order_relaxed);
      open_.fetch_add(1, std::memory_order_relaxed);
    };
    server_->on_close = [this](WsConnection& c, const WsCloseInfo& info) {
      std::lock_guard<std::mutex> lock(mutex_);
      closes_.push_back(info);
      if (opened(c)) open_.fetch_sub(1, std::memory_order_relaxed);
    };
  }

  // Serves for `seconds` (None: until stop()), with the GIL released. stop() is thread-safe.
  void run(std::optional<double> seconds) {
    pyb::gil_scoped_release release;
    const auto end = seconds ? std::chrono::steady_clock::now() + ms(*seconds, "seconds")
                             : std::chrono::steady_clock::time_point::max();
    stop_requested_.store(false, std::memory_order_relaxed);
    while (!stop_requested_.load(std::memory_order_relaxed)) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= end) break;
      reactor_.poll(100);
      pyb::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) throw pyb::error_already_set();
    }
  }
  void stop() {
    stop_requested_.store(true, std::memory_order_relaxed);
    reactor_.wake();
  }
  // Queued for the serving thread (runs at once when nobody is serving).
  void broadcast(const pyb::object& data) {
    auto f = std::make_shared<EncodedFrame>();
    if (pyb::isinstance<pyb::str>(data)) {
      WsServer::encode(Opcode::kText, data.cast<std::string>(), *f);
    } else {
      WsServer::encode(Opcode::kBinary, pyb::bytes(data).cast<std::string>(), *f);
    }
    reactor_.post([this, f] { server_->broadcast(*f); });
  }
  void close_all(int code, const std::string& reason) {
    reactor_.post([this, code, reason] { server_->close_all(static_cast<std::uint16_t>(code), reason); });
  }
  std::uint16_t port() const { return port_; }
  std::int64_t connections() const { return open_.load(std::memory_order_relaxed); }
  std::uint64_t messages() const { return messages_.load(std::memory_order_relaxed); }
  std::uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
  std::uint64_t refused() const { return server_->refused(); }
  pyb::list closes() {
    std::lock_guard<std::mutex> lock(mutex_);
    pyb::list l;
    for (const auto& c : closes_) l.append(close_dict(c));
    return l;
  }
  bool tls() const { return tls_; }

 private:
  // A connection counts as open once its handshake finished (on_open ran): it then has a subprotocol
  // decision and a target; those closed during the handshake never were.
  static bool opened(const WsConnection& c) { return !c.request_target().empty(); }

  Reactor reactor_;
  std::unique_ptr<WsServer> server_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_requested_{false};
  std::atomic<std::uint64_t> messages_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::int64_t> open_{0};
  std::mutex mutex_;
  std::vector<WsCloseInfo> closes_;
  bool tls_ = false;
};

}  // namespace

void register_net(pyb::module_& m) {
  pyb::module_ builtins = pyb::module_::import("builtins");
  const pyb::object base = m.attr("HftxError");
  // register_exception keeps its type object in a static of its own: take handles, never release() it.
  static pyb::handle conn_type = pyb::register_exception<ConnectionError>(
                                     m, "ConnectionError", pyb::make_tuple(base, builtins.attr("ConnectionError")))
                                     .ptr();
  pyb::register_exception<TlsError>(m, "TlsError", conn_type);
  static pyb::handle hs_type = pyb::exception<HandshakeError>(m, "HandshakeError", conn_type).release();
  static pyb::handle closed_type = pyb::exception<WsClosedError>(m, "ConnectionClosedError", conn_type).release();
  // Newest first: these two carry attributes, so they are raised by hand.
  pyb::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const HandshakeError& e) {
      pyb::object exc = pyb::reinterpret_borrow<pyb::object>(hs_type)(e.what());
      exc.attr("status") = e.status();
      exc.attr("body") = e.body();
      PyErr_SetObject(hs_type.ptr(), exc.ptr());
    } catch (const WsClosedError& e) {
      pyb::object exc = pyb::reinterpret_borrow<pyb::object>(closed_type)(e.what());
      exc.attr("code") = e.code_;
      exc.attr("reason") = e.reason_;
      exc.attr("clean") = e.clean_;
      PyErr_SetObject(closed_type.ptr(), exc.ptr());
    }
  });

  pyb::class_<PyWsClient>(m, "WsClient", "RFC 6455 WebSocket client (ws:// and wss://) on hftx's reactor.")
      .def(pyb::init<const std::string&, const std::vector<std::pair<std::string, std::string>>&,
                     const std::vector<std::string>&, double, const std::string&, bool, std::size_t, double, double,
                     bool>(),
           pyb::arg("url"), pyb::arg("headers") = std::vector<std::pair<std::string, std::string>>{},
           pyb::arg("subprotocols") = std::vector<std::string>{}, pyb::arg("connect_timeout") = 10.0,
           pyb::arg("ca_file") = "", pyb::arg("verify") = true, pyb::arg("max_message_size") = std::size_t{64} << 20,
           pyb::arg("ping_interval") = 0.0, pyb::arg("ping_timeout") = 10.0, pyb::arg("reconnect") = false)
      .def("connect", &PyWsClient::connect, "Connect, TLS and opening handshake (GIL released).")
      .def("send", &PyWsClient::send, pyb::arg("data"), "str: a text message; bytes: a binary message.")
      .def("ping", &PyWsClient::ping, pyb::arg("data") = pyb::bytes(""))
      .def("recv", &PyWsClient::recv, pyb::arg("timeout") = pyb::none(),
           "Next message (str or bytes), None on timeout; raises ConnectionClosedError once closed and drained.")
      .def("close", &PyWsClient::close, pyb::arg("code") = 1000, pyb::arg("reason") = "", pyb::arg("timeout") = 5.0)
      .def_property_readonly("close_info", &PyWsClient::close_info)
      .def_property_readonly("is_open", &PyWsClient::is_open)
      .def_property_readonly("subprotocol", &PyWsClient::subprotocol)
      .def_property_readonly("reconnects", &PyWsClient::reconnects)
      .def_property_readonly("pending", &PyWsClient::pending)
      .def_property_readonly("socket_notes", &PyWsClient::socket_notes)
      .def("stats", &PyWsClient::stats);

  pyb::class_<PyWsServer>(m, "WsServer", "hftx's WebSocket server (echo or sink), for tools and tests.")
      .def(pyb::init<const std::string&, std::uint16_t, bool, const std::string&, const std::string&,
                     const std::vector<std::string>&, std::size_t, std::size_t, std::size_t>(),
           pyb::arg("host") = "127.0.0.1", pyb::arg("port") = 0, pyb::arg("echo") = true, pyb::arg("cert_file") = "",
           pyb::arg("key_file") = "", pyb::arg("subprotocols") = std::vector<std::string>{},
           pyb::arg("max_message_size") = std::size_t{64} << 20, pyb::arg("max_connections") = 10'000,
           pyb::arg("max_pending_handshakes") = 1'024)
      .def("run", &PyWsServer::run, pyb::arg("seconds") = pyb::none(), "Serve (GIL released) until stop() or seconds.")
      .def("stop", &PyWsServer::stop, "Thread-safe: makes run() return.")
      .def("broadcast", &PyWsServer::broadcast, pyb::arg("data"), "Send one frame to every client (on the serving thread).")
      .def("close_all", &PyWsServer::close_all, pyb::arg("code") = 1001, pyb::arg("reason") = "")
      .def_property_readonly("port", &PyWsServer::port)
      .def_property_readonly("connections", &PyWsServer::connections)
      .def_property_readonly("messages", &PyWsServer::messages)
      .def_property_readonly("accepted", &PyWsServer::accepted)
      .def_property_readonly("refused", &PyWsServer::refused,
                             "Connections refused at max_connections or max_pending_handshakes (an HTTP 503 says which).")
      .def_property_readonly("tls", &PyWsServer::tls)
      .def("closes", &PyWsServer::closes);
}

}  // namespace hftx::py
