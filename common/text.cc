#include "common/text.h"

#include <cstdint>

#include <fmt/format.h>

namespace fersweep {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The code point starting at text[at] and its length in bytes; length 0 for an invalid sequence
// (overlong, surrogate, beyond U+10FFFF, truncated or a stray continuation byte).
struct CodePoint {
  char32_t value = 0;
  size_t length = 0;
};

CodePoint decode(std::string_view text, size_t at) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[at + i]); };
  const uint8_t lead = byte(0);
  if (lead < 0x80) return {lead, 1};
  size_t length = 0;
  char32_t value = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, value = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, value = lead & 0x07;
  } else {
    return {};
  }
  if (at + length > text.size()) return {};
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return {};
    value = (value << 6) | (byte(i) & 0x3F);
  }
  const char32_t smallest = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
  if (value < smallest || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return {};
  return {value, length};
}

// Walks `text` code point by code point; `emit(code point, its bytes)` for each valid one and
// `invalid(byte)` for each byte that starts no valid sequence.
template <typename Emit, typename Invalid>
void for_each_code_point(std::string_view text, Emit emit, Invalid invalid) {
  for (size_t at = 0; at < text.size();) {
    const CodePoint point = decode(text, at);
    if (point.length == 0) {
      invalid(static_cast<uint8_t>(text[at]));
      ++at;
      continue;
    }
    emit(point.value, text.substr(at, point.length));
    at += point.length;
  }
}

}  // namespace

std::string terminal_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for_each_code_point(
      text,
      [&](char32_t c, std::string_view bytes) {
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
        } else if (c >= 0x80 && c <= 0x9F) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += bytes;
        }
      },
      [&](uint8_t b) { out += fmt::format("\\x{:02x}", b); });
  return out;
}

std::string markup_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for_each_code_point(
      text,
      [&](char32_t c, std::string_view bytes) {
        switch (c) {
          case '&':
            out += "&amp;";
            return;
          case '<':
            out += "&lt;";
            return;
          case '>':
            out += "&gt;";
            return;
          case '"':
            out += "&quot;";
            return;
          case '\'':
            out += "&#39;";
            return;
        }
        const bool allowed =
            (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') && c != 0xFFFE && c != 0xFFFF;
        out += allowed ? bytes : kReplacement;
      },
      [&](uint8_t) { out += kReplacement; });
  return out;
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for_each_code_point(
      text, [&](char32_t, std::string_view bytes) { out += bytes; },
      [&](uint8_t) { out += kReplacement; });
  return out;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> pieces;
  if (text.empty()) return pieces;
  for (size_t start = 0;;) {
    const size_t end = text.find(separator, start);
    pieces.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return pieces;
    start = end + 1;
  }
}

}  // namespace fersweep
