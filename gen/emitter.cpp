#include "emitter.h"

#include <stdexcept>

namespace crossproc::gen {

void Emitter::Raw(int depth, std::string_view text) {
  if (text.empty()) {
    m_text += '\n';
  } else {
    m_text.append(static_cast<std::size_t>(depth) * 2, ' ');
    m_text.append(text);
    m_text += '\n';
  }
  m_last_blank = text.empty();
  m_last_opened = false;
}

void Emitter::Line(std::string_view text) { Raw(m_depth, text); }

void Emitter::Blank() {
  if (m_last_blank || m_last_opened) return;
  Raw(0, {});
}

void Emitter::Open(std::string_view text) {
  Raw(m_depth, text);
  ++m_depth;
  m_last_opened = true;
}

void Emitter::Close(std::string_view text) {
  Dedent();
  // A blank line before a closing brace is never wanted.
  if (m_last_blank && m_text.ends_with("\n\n")) {
    m_text.pop_back();
  }
  if (!text.empty()) Raw(m_depth, text);
}

void Emitter::Label(std::string_view text) {
  // Access labels sit one space in from the enclosing brace (Google style).
  Raw(m_depth > 0 ? m_depth - 1 : 0, " " + std::string(text));
  m_last_opened = true;
}

void Emitter::Comment(std::string_view doc) {
  while (!doc.empty() && (doc.back() == '\n' || doc.back() == ' ')) doc.remove_suffix(1);
  while (!doc.empty()) {
    std::size_t end = doc.find('\n');
    std::string_view line = doc.substr(0, end);
    while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
    Line(line.empty() ? std::string("//") : "// " + std::string(line));
    if (end == std::string_view::npos) break;
    doc.remove_prefix(end + 1);
  }
}

void Emitter::Paragraph(std::string_view text) {
  std::string line = "//";
  std::size_t width = kColumns - static_cast<std::size_t>(m_depth) * 2;
  while (!text.empty()) {
    std::size_t end = text.find(' ');
    std::string_view word = text.substr(0, end);
    if (line.size() > 2 && line.size() + 1 + word.size() > width) {
      Line(line);
      line = "//";
    }
    line += " ";
    line += word;
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  if (line.size() > 2) Line(line);
}

void Emitter::Call(std::string_view head, const std::vector<std::string>& args,
                   std::string_view tail) {
  std::size_t indent = static_cast<std::size_t>(m_depth) * 2;
  std::string joined;
  for (const std::string& arg : args) joined += (joined.empty() ? "" : ", ") + arg;
  std::string one_line = std::string(head) + joined + std::string(tail);
  if (indent + one_line.size() <= kColumns || args.empty()) {
    Line(one_line);
    return;
  }
  Line(head);
  std::size_t continuation = indent + 4;
  std::string line;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string piece = args[i] + (i + 1 < args.size() ? "," : std::string(tail));
    if (!line.empty() && continuation + line.size() + 1 + piece.size() > kColumns) {
      Raw(m_depth + 2, line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + piece;
  }
  Raw(m_depth + 2, line);
}

void Emitter::Continued(std::string_view first, std::string_view rest) {
  std::string one_line = std::string(first) + " " + std::string(rest);
  if (static_cast<std::size_t>(m_depth) * 2 + one_line.size() <= kColumns) {
    Line(one_line);
    return;
  }
  Line(first);
  Raw(m_depth + 2, rest);
}

void Emitter::OpenCall(std::string_view head, const std::vector<std::string>& args,
                       std::string_view tail) {
  Call(head, args, tail);
  ++m_depth;
  m_last_opened = true;
}

void Emitter::Dedent() {
  if (m_depth == 0) throw std::logic_error("Emitter: Close without Open");
  --m_depth;
}

}  // namespace crossproc::gen
