// hftx/net/reactor.hpp — an epoll reactor run by one thread: sockets, timerfd timers, eventfd wake-ups.
//
// Threading contract: one thread (the owner) calls poll()/run*() and every add/modify/remove and every
// Timer method; handlers run on that thread. From any other thread only wake(), stop() and post() are safe.
//
// Edge-triggered, on purpose. Each socket is registered once for EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET and
// never modified again: level-triggered epoll would need an epoll_ctl(MOD) syscall to add EPOLLOUT every
// time a write is left pending and another to drop it once drained, or it would report "writable" on every
// turn. The price of edge triggering is that a handler must drain a socket until it would block; for TCP a
// short read (fewer bytes than asked) already proves the receive queue was empty at that moment, and any
// byte that arrives later raises a new edge, so the common case costs one recv() per readiness, the same as
// level triggering. (TLS reads loop until WANT_READ because OpenSSL may hold decrypted bytes back.)
//
// Fairness: a handler that stops before draining its socket (a backlogged stream: see WsConnection's read
// budget) asks for resume_next_turn(); the reactor then calls it again in the next turn after the handlers
// that epoll reports, and does not sleep in between. No edge is lost and no connection starves the others.
//
// Modes: poll(0) is one busy-poll turn (epoll_wait with timeout 0: never sleeps, for a pinned core);
// poll(timeout_ms) sleeps in the kernel until something happens (blocking mode). Writes queued during a
// turn are flushed once at its end (FlushHandler), so N sends in one callback cost one writev.
#pragma once

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "hftx/core/error.hpp"
#include "hftx/core/platform.hpp"

namespace hftx::net {

// Receives readiness for one file descriptor.
class IoHandler {
 public:
  virtual void on_io(std::uint32_t events) noexcept = 0;

 protected:
  ~IoHandler() = default;
};

// Something with queued output, flushed at the end of the reactor turn in which it was queued.
class FlushHandler {
 public:
  virtual void on_flush() noexcept = 0;

 protected:
  ~FlushHandler() = default;
};

class Reactor final : private IoHandler {
 public:
  Reactor() {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw SystemError(std::string("epoll_create1: ") + std::strerror(errno));
    wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakefd_ < 0) {
      ::close(epfd_);
      throw SystemError(std::string("eventfd: ") + std::strerror(errno));
    }
    add(wakefd_, EPOLLIN | EPOLLET, this);
    deferred_.reserve(64);
    deferred_swap_.reserve(64);
    resume_.reserve(64);
    resume_swap_.reserve(64);
  }
  ~Reactor() {
    ::close(wakefd_);
    ::close(epfd_);
  }
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  void add(int fd, std::uint32_t events, IoHandler* h) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = h;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0)
      throw SystemError("epoll_ctl(ADD, fd " + std::to_string(fd) + "): " + std::strerror(errno));
  }
  void modify(int fd, std::uint32_t events, IoHandler* h) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = h;
    if (epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) != 0)
      throw SystemError("epoll_ctl(MOD, fd " + std::to_string(fd) + "): " + std::strerror(errno));
  }
  // Also drops events already fetched for `h` in the current turn, so a handler may be destroyed from
  // inside another handler's callback.
  void remove(int fd, IoHandler* h) noexcept {
    epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    for (int i = dispatch_index_; i < dispatch_count_; ++i)
      if (events_[i].data.ptr == h) events_[i].data.ptr = nullptr;
    for (auto* list : {&resume_, &resume_swap_})
      for (Resume& r : *list)
        if (r.handler == h) r.handler = nullptr;
  }

  // Calls h->on_io(events) in the next turn, after that turn's epoll events (once, however often it is
  // asked; the events are merged). For a handler that left data unread to let the others run.
  void resume_next_turn(IoHandler* h, std::uint32_t events) {
    for (Resume& r : resume_)
      if (r.handler == h) {
        r.events |= events;
        return;
      }
    resume_.push_back(Resume{h, events});
  }

  // Queue `h` for on_flush() at the end of this turn (once per turn however often it is called).
  void defer_flush(FlushHandler* h) { deferred_.push_back(h); }
  void cancel_flush(FlushHandler* h) noexcept {
    std::replace(deferred_.begin(), deferred_.end(), h, static_cast<FlushHandler*>(nullptr));
    std::replace(deferred_swap_.begin(), deferred_swap_.end(), h, static_cast<FlushHandler*>(nullptr));
  }

  // One turn: flush what callers queued since the last turn, wait up to timeout_ms (0: busy-poll, -1:
  // forever), dispatch, flush what the handlers queued. Returns the number of events dispatched.
  int poll(int timeout_ms) noexcept {
    run_deferred();
    // Handlers resumed in this turn; those that ask again go to the next one.
    resume_swap_.swap(resume_);
    int n = epoll_wait(epfd_, events_, kMaxEvents, deferred_.empty() && resume_swap_.empty() ? timeout_ms : 0);
    if (n < 0) n = 0;  // EINTR: the caller's loop decides whether to go on
    dispatch_count_ = n;
    for (dispatch_index_ = 0; dispatch_index_ < n; ++dispatch_index_) {
      auto* h = static_cast<IoHandler*>(events_[dispatch_index_].data.ptr);
      if (h != nullptr) h->on_io(events_[dispatch_index_].events);
    }
    dispatch_count_ = 0;
    dispatch_index_ = 0;
    for (std::size_t i = 0; i < resume_swap_.size(); ++i)  // remove() may null entries meanwhile
      if (IoHandler* h = resume_swap_[i].handler) h->on_io(resume_swap_[i].events);
    resume_swap_.clear();
    run_deferred();
    if (HFTX_UNLIKELY(posted_pending_.load(std::memory_order_acquire))) run_posted();
    return n;
  }

  // Turns until stop() (from a handler or another thread) or until `deadline`. busy_poll: timeout 0.
  template <class Clock = std::chrono::steady_clock>
  void run_until(typename Clock::time_point deadline, bool busy_poll = false) {
    stop_.store(false, std::memory_order_relaxed);
    while (!stop_.load(std::memory_order_relaxed)) {
      const auto now = Clock::now();
      if (now >= deadline) break;
      int timeout = 0;
      if (!busy_poll) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        timeout = static_cast<int>(std::min<long long>(left + 1, 1000));
      }
      poll(timeout);
    }
  }
  void run(bool busy_poll = false) {
    stop_.store(false, std::memory_order_relaxed);
    while (!stop_.load(std::memory_order_relaxed)) poll(busy_poll ? 0 : -1);
  }

  // Thread-safe.
  void stop() noexcept {
    stop_.store(true, std::memory_order_relaxed);
    wake();
  }
  [[nodiscard]] bool stopped() const noexcept { return stop_.load(std::memory_order_relaxed); }
  void wake() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t r = ::write(wakefd_, &one, sizeof one);
  }
  // Runs fn on the reactor thread at the end of a coming turn. Thread-safe; not for the hot path.
  void post(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(posted_mutex_);
      posted_.push_back(std::move(fn));
    }
    posted_pending_.store(true, std::memory_order_release);
    wake();
  }

 private:
  static constexpr int kMaxEvents = 256;
  struct Resume {
    IoHandler* handler;
    std::uint32_t events;
  };

  void on_io(std::uint32_t) noexcept override {
    std::uint64_t v;
    while (::read(wakefd_, &v, sizeof v) > 0) {
    }
  }
  void run_deferred() noexcept {
    while (!deferred_.empty()) {
      deferred_swap_.swap(deferred_);  // handlers may queue again while being flushed
      for (std::size_t i = 0; i < deferred_swap_.size(); ++i)
        if (FlushHandler* h = deferred_swap_[i]) h->on_flush();
      deferred_swap_.clear();
    }
  }
  void run_posted() {
    std::vector<std::function<void()>> work;
    {
      std::lock_guard<std::mutex> lock(posted_mutex_);
      work.swap(posted_);
      posted_pending_.store(false, std::memory_order_relaxed);
    }
    for (auto& fn : work) fn();
  }

  int epfd_ = -1;
  int wakefd_ = -1;
  epoll_event events_[kMaxEvents];
  int dispatch_index_ = 0;
  int dispatch_count_ = 0;
  std::vector<FlushHandler*> deferred_;
  std::vector<FlushHandler*> deferred_swap_;
  std::vector<Resume> resume_;
  std::vector<Resume> resume_swap_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> posted_pending_{false};
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
};

// A timerfd in the reactor: one-shot or periodic. Owned by one object on the reactor thread.
class Timer final : private IoHandler {
 public:
  Timer(Reactor& reactor, std::function<void()> fn) : reactor_(reactor), fn_(std::move(fn)) {
    fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd_ < 0) throw SystemError(std::string("timerfd_create: ") + std::strerror(errno));
    reactor_.add(fd_, EPOLLIN | EPOLLET, this);
  }
  ~Timer() {
    reactor_.remove(fd_, this);
    ::close(fd_);
  }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Fires after `delay`, then every `interval` (zero: once). A zero delay fires on the next turn.
  void arm(std::chrono::nanoseconds delay, std::chrono::nanoseconds interval = {}) noexcept {
    itimerspec spec{};
    const auto to_ts = [](std::chrono::nanoseconds d) {
      timespec ts{};
      ts.tv_sec = static_cast<time_t>(d.count() / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(d.count() % 1'000'000'000);
      return ts;
    };
    spec.it_value = to_ts(delay.count() > 0 ? delay : std::chrono::nanoseconds(1));
    spec.it_interval = to_ts(interval);
    timerfd_settime(fd_, 0, &spec, nullptr);
    armed_ = true;
  }
  void disarm() noexcept {
    itimerspec spec{};
    timerfd_settime(fd_, 0, &spec, nullptr);
    armed_ = false;
  }
  [[nodiscard]] bool armed() const noexcept { return armed_; }

 private:
  void on_io(std::uint32_t) noexcept override {
    std::uint64_t expirations = 0;
    if (::read(fd_, &expirations, sizeof expirations) != static_cast<ssize_t>(sizeof expirations)) return;
    itimerspec cur{};
    timerfd_gettime(fd_, &cur);
    armed_ = cur.it_interval.tv_sec != 0 || cur.it_interval.tv_nsec != 0;
    fn_();
  }

  Reactor& reactor_;
  std::function<void()> fn_;
  int fd_ = -1;
  bool armed_ = false;
};

}  // namespace hftx::net
