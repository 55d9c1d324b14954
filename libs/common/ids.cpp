#include "libs/common/ids.hpp"

#include <array>
#include <cstdint>
#include <random>

namespace orderflow::ids {
namespace {

std::mt19937_64& engine() {
  thread_local std::mt19937_64 gen{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }()};
  return gen;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::string random_hex(std::size_t bytes) {
  std::string out;
  out.reserve(bytes * 2);
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    if (i % 8 == 0) word = engine()();
    auto b = static_cast<unsigned>(word & 0xff);
    word >>= 8;
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

std::string uuid() {
  std::array<std::uint8_t, 16> b{};
  std::uint64_t hi = engine()(), lo = engine()();
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<std::uint8_t>(hi >> (8 * i));
    b[8 + i] = static_cast<std::uint8_t>(lo >> (8 * i));
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

}  // namespace orderflow::ids
