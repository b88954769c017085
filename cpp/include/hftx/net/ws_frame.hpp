// hftx/net/ws_frame.hpp — RFC 6455 frame codec: header parse/encode, masking, UTF-8 validation, close codes.
//
// Threading contract: every function here is pure (operates on the caller's buffers) and safe from any
// thread. MaskPrng and Utf8Validator are plain values owned by one connection.
//
// The parser reads only bytes [p, p + n): with fewer bytes than the header needs it answers kNeedMore and
// never looks further, which is what the fuzz target (tests/fuzz/fuzz_ws_frame.cpp) checks under ASan.
#pragma once

#include <openssl/rand.h>
#include <sys/random.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "hftx/core/platform.hpp"

#if HFTX_X86
#include <emmintrin.h>
#endif

namespace hftx::net {

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes hftx sends (RFC 6455 §7.4.1).
namespace close_code {
inline constexpr std::uint16_t kNormal = 1000;
inline constexpr std::uint16_t kGoingAway = 1001;
inline constexpr std::uint16_t kProtocolError = 1002;
inline constexpr std::uint16_t kUnsupportedData = 1003;
inline constexpr std::uint16_t kNoStatus = 1005;        // never on the wire: "close frame had no code"
inline constexpr std::uint16_t kAbnormal = 1006;        // never on the wire: "no close frame at all"
inline constexpr std::uint16_t kInvalidPayload = 1007;  // e.g. invalid UTF-8 in a text message
inline constexpr std::uint16_t kPolicyViolation = 1008;
inline constexpr std::uint16_t kMessageTooBig = 1009;
inline constexpr std::uint16_t kInternalError = 1011;
}  // namespace close_code

// Codes a peer may legitimately put in a close frame: the RFC's defined ones (not 1004/1005/1006/1015,
// which are reserved or "never sent"), the IANA-registered 1012-1014 that servers use for restarts, and
// the application ranges 3000-4999.
constexpr bool is_valid_close_code(std::uint16_t code) noexcept {
  if (code >= 3000 && code <= 4999) return true;
  switch (code) {
    case 1000: case 1001: case 1002: case 1003: case 1007: case 1008: case 1009: case 1010: case 1011:
    case 1012: case 1013: case 1014:
      return true;
    default:
      return false;
  }
}

constexpr bool is_control(Opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

inline constexpr std::size_t kMaxHeaderSize = 14;  // 2 + 8 (64-bit length) + 4 (mask key)
inline constexpr std::size_t kMaxControlPayload = 125;

struct FrameHeader {
  std::uint64_t payload_len = 0;
  std::uint8_t mask_key[4] = {0, 0, 0, 0};
  std::uint8_t header_len = 0;
  Opcode opcode = Opcode::kContinuation;
  bool fin = false;
  bool masked = false;
};

enum class FrameStatus : std::uint8_t { kOk, kNeedMore, kError };

// Why a header was refused: the close code to fail the connection with and a static description.
struct FrameError {
  std::uint16_t code = 0;
  const char* what = "";
};

// Parses one frame header from [p, p + n). Checks everything that needs no connection state: reserved
// bits (hftx negotiates no extension), unknown opcodes, fragmented or oversized control frames, the
// 64-bit length's top bit and non-minimal length encodings. Whether the mask bit is right depends on the
// role and is the caller's check. Never reads past p + n.
HFTX_FORCE_INLINE FrameStatus parse_frame_header(const std::uint8_t* p, std::size_t n, FrameHeader& h,
                                                 FrameError& err) noexcept {
  if (HFTX_UNLIKELY(n < 2)) return FrameStatus::kNeedMore;
  const std::uint8_t b0 = p[0];
  const std::uint8_t b1 = p[1];
  h.fin = (b0 & 0x80) != 0;
  h.opcode = static_cast<Opcode>(b0 & 0x0F);
  h.masked = (b1 & 0x80) != 0;
  if (HFTX_UNLIKELY(b0 & 0x70)) {
    err = {close_code::kProtocolError, "reserved bits set without a negotiated extension"};
    return FrameStatus::kError;
  }
  const std::uint8_t op = b0 & 0x0F;
  if (HFTX_UNLIKELY((op > 2 && op < 8) || op > 10)) {
    err = {close_code::kProtocolError, "unknown opcode"};
    return FrameStatus::kError;
  }
  std::uint64_t len = b1 & 0x7F;
  std::size_t pos = 2;
  if (op >= 8) {
    if (HFTX_UNLIKELY(!h.fin)) {
      err = {close_code::kProtocolError, "fragmented control frame"};
      return FrameStatus::kError;
    }
    if (HFTX_UNLIKELY(len > kMaxControlPayload)) {
      err = {close_code::kProtocolError, "control frame payload longer than 125 bytes"};
      return FrameStatus::kError;
    }
  } else if (len == 126) {
    if (HFTX_UNLIKELY(n < 4)) return FrameStatus::kNeedMore;
    len = (std::uint64_t{p[2]} << 8) | p[3];
    pos = 4;
    if (HFTX_UNLIKELY(len < 126)) {
      err = {close_code::kProtocolError, "payload length not minimally encoded"};
      return FrameStatus::kError;
    }
  } else if (len == 127) {
    if (HFTX_UNLIKELY(n < 10)) return FrameStatus::kNeedMore;
    std::uint64_t v;
    std::memcpy(&v, p + 2, 8);
    len = __builtin_bswap64(v);
    pos = 10;
    if (HFTX_UNLIKELY(len >> 63)) {
      err = {close_code::kProtocolError, "64-bit payload length has its top bit set"};
      return FrameStatus::kError;
    }
    if (HFTX_UNLIKELY(len < 65536)) {
      err = {close_code::kProtocolError, "payload length not minimally encoded"};
      return FrameStatus::kError;
    }
  }
  if (h.masked) {
    if (HFTX_UNLIKELY(n < pos + 4)) return FrameStatus::kNeedMore;
    std::memcpy(h.mask_key, p + pos, 4);
    pos += 4;
  }
  h.payload_len = len;
  h.header_len = static_cast<std::uint8_t>(pos);
  return FrameStatus::kOk;
}

constexpr std::size_t frame_header_size(std::uint64_t payload_len, bool masked) noexcept {
  const std::size_t base = payload_len < 126 ? 2 : (payload_len < 65536 ? 4 : 10);
  return base + (masked ? 4 : 0);
}

// Writes a header for `payload_len` bytes at dst (frame_header_size() bytes). Returns the size written.
HFTX_FORCE_INLINE std::size_t write_frame_header(std::uint8_t* dst, Opcode op, bool fin, std::uint64_t payload_len,
                                                 const std::uint8_t* mask_key) noexcept {
  dst[0] = static_cast<std::uint8_t>((fin ? 0x80 : 0x00) | static_cast<std::uint8_t>(op));
  const std::uint8_t mask_bit = mask_key != nullptr ? 0x80 : 0x00;
  std::size_t pos;
  if (payload_len < 126) {
    dst[1] = static_cast<std::uint8_t>(mask_bit | payload_len);
    pos = 2;
  } else if (payload_len < 65536) {
    dst[1] = static_cast<std::uint8_t>(mask_bit | 126);
    dst[2] = static_cast<std::uint8_t>(payload_len >> 8);
    dst[3] = static_cast<std::uint8_t>(payload_len);
    pos = 4;
  } else {
    dst[1] = static_cast<std::uint8_t>(mask_bit | 127);
    const std::uint64_t be = __builtin_bswap64(payload_len);
    std::memcpy(dst + 2, &be, 8);
    pos = 10;
  }
  if (mask_key != nullptr) {
    std::memcpy(dst + pos, mask_key, 4);
    pos += 4;
  }
  return pos;
}

// XORs [p, p + n) with the 4-byte key, starting `offset` bytes into the key's cycle (for payloads
// unmasked in pieces). 16 bytes per step with SSE2 (x86-64 baseline), then 8, then single bytes.
HFTX_FORCE_INLINE void apply_mask(std::uint8_t* p, std::size_t n, const std::uint8_t key[4],
                                  std::size_t offset = 0) noexcept {
  std::uint8_t k[4];
  for (std::size_t i = 0; i < 4; ++i) k[i] = key[(i + offset) & 3];
  std::uint32_t k32;
  std::memcpy(&k32, k, 4);
  const std::uint64_t k64 = (std::uint64_t{k32} << 32) | k32;
  std::size_t i = 0;
#if HFTX_X86
  const __m128i k128 = _mm_set1_epi32(static_cast<int>(k32));
  for (; i + 64 <= n; i += 64) {
    auto* q = reinterpret_cast<__m128i*>(p + i);
    const __m128i a = _mm_loadu_si128(q);
    const __m128i b = _mm_loadu_si128(q + 1);
    const __m128i c = _mm_loadu_si128(q + 2);
    const __m128i d = _mm_loadu_si128(q + 3);
    _mm_storeu_si128(q, _mm_xor_si128(a, k128));
    _mm_storeu_si128(q + 1, _mm_xor_si128(b, k128));
    _mm_storeu_si128(q + 2, _mm_xor_si128(c, k128));
    _mm_storeu_si128(q + 3, _mm_xor_si128(d, k128));
  }
  for (; i + 16 <= n; i += 16) {
    auto* q = reinterpret_cast<__m128i*>(p + i);
    _mm_storeu_si128(q, _mm_xor_si128(_mm_loadu_si128(q), k128));
  }
#endif
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    w ^= k64;
    std::memcpy(p + i, &w, 8);
  }
  for (; i < n; ++i) p[i] ^= k[i & 3];
}

// Masking keys: RFC 6455 §5.3 wants them unpredictable to stop cache-poisoning via proxies, not secret
// for cryptographic strength. wyrand (one 64x64->128 multiply per key) seeded from the kernel CSPRNG
// (getrandom, else OpenSSL's RAND_bytes) gives that at ~1 ns a key instead of a syscall each.
class MaskPrng {
 public:
  MaskPrng() noexcept {
    std::uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed))
      RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed);
    state_ = seed;
  }
  explicit MaskPrng(std::uint64_t seed) noexcept : state_(seed) {}

  HFTX_FORCE_INLINE std::uint64_t next() noexcept {
    state_ += 0xa0761d6478bd642fULL;
    const uint128 m = static_cast<uint128>(state_) * (state_ ^ 0xe7037ed1a0b428dbULL);
    return static_cast<std::uint64_t>(m >> 64) ^ static_cast<std::uint64_t>(m);
  }
  HFTX_FORCE_INLINE void next_key(std::uint8_t key[4]) noexcept {
    const auto v = static_cast<std::uint32_t>(next());
    std::memcpy(key, &v, 4);
  }

 private:
  std::uint64_t state_;
};

// Incremental UTF-8 validation (Bjoern Hoehrmann's DFA, which rejects overlongs, surrogates and code points
// above U+10FFFF) with an ASCII fast path: while between code points, 8 bytes at a time are checked for a
// high bit and skipped when there is none. Fragmented text feeds each fragment in turn.
class Utf8Validator {
 public:
  static constexpr std::uint8_t kAccept = 0;
  static constexpr std::uint8_t kReject = 12;

  // Returns false as soon as the bytes so far cannot start a valid text.
  HFTX_FORCE_INLINE bool feed(const std::uint8_t* p, std::size_t n) noexcept {
    std::size_t i = 0;
    std::uint8_t state = state_;
    while (i < n) {
      if (state == kAccept) {
        while (i + 8 <= n) {
          std::uint64_t w;
          std::memcpy(&w, p + i, 8);
          if (w & 0x8080808080808080ULL) break;
          i += 8;
        }
        while (i < n && p[i] < 0x80) ++i;
        if (i == n) break;
      }
      const std::uint8_t type = kTable[p[i]];
      state = kTable[256 + state + type];
      if (HFTX_UNLIKELY(state == kReject)) {
        state_ = state;
        return false;
      }
      ++i;
    }
    state_ = state;
    return true;
  }
  // True when everything fed so far is complete, valid UTF-8.
  [[nodiscard]] bool complete() const noexcept { return state_ == kAccept; }
  void reset() noexcept { state_ = kAccept; }

 private:
  // Character classes (256 entries) then the transition table (state + class -> state), states
  // pre-multiplied by 12.
  static constexpr std::uint8_t kTable[256 + 108] = {
      // classes
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
      7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
      8, 8, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
      10, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 3, 3, 11, 6, 6, 6, 5, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
      // transitions
      0, 12, 24, 36, 60, 96, 84, 12, 12, 12, 48, 72, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
      12, 0, 12, 12, 12, 12, 12, 0, 12, 0, 12, 12, 12, 24, 12, 12, 12, 12, 12, 24, 12, 24, 12, 12,
      12, 12, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 12, 12, 24, 12, 12,
      12, 12, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12, 12, 36, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,
      12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
  };
  std::uint8_t state_ = kAccept;
};

inline bool is_valid_utf8(const void* p, std::size_t n) noexcept {
  Utf8Validator v;
  return v.feed(static_cast<const std::uint8_t*>(p), n) && v.complete();
}
inline bool is_valid_utf8(std::string_view s) noexcept { return is_valid_utf8(s.data(), s.size()); }

}  // namespace hftx::net
