// Emitter: the indentation-aware line writer every part of crossproc-gen writes through.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crossproc::gen {

// Collects generated text line by line. Lines are indented by two spaces per level; blank lines
// never repeat and never follow an opening line. Not thread-safe; one per output file.
//
//   Emitter out;
//   out.Open("struct Point {");
//   out.Line("double x;");
//   out.Close("};");
class Emitter {
 public:
  // Writes one line at the current indentation (an empty string writes a blank line).
  void Line(std::string_view text);
  // Writes a blank line unless the previous line is blank or opened a block.
  void Blank();
  // Writes `text` and indents the following lines.
  void Open(std::string_view text);
  // Unindents and writes `text` (nothing when `text` is empty).
  void Close(std::string_view text = {});
  // Writes an access label such as `public:` one space in from the enclosing brace.
  void Label(std::string_view text);
  // Writes each line of `doc` (a schema doc comment) as a `//` comment.
  void Comment(std::string_view doc);
  // Writes `text` as `//` comment lines filled to the column limit.
  void Paragraph(std::string_view text);

  // Writes `head`, the comma-separated `args` and `tail` ("f(" "a, b" ");") on one line if it
  // fits in kColumns, else breaks after `head` and packs the arguments on continuation lines
  // indented twice. `Call` leaves the indentation alone; `OpenCall` indents what follows, for
  // a `tail` that opens a block.
  void Call(std::string_view head, const std::vector<std::string>& args, std::string_view tail);
  void OpenCall(std::string_view head, const std::vector<std::string>& args, std::string_view tail);

  // Writes `first rest` on one line if it fits, else `rest` on a continuation line.
  void Continued(std::string_view first, std::string_view rest);

  // The column limit of the house style.
  static constexpr std::size_t kColumns = 100;

  void Indent() { ++m_depth; }
  void Dedent();

  const std::string& Text() const { return m_text; }

 private:
  void Raw(int depth, std::string_view text);

  std::string m_text;
  int m_depth = 0;
  bool m_last_blank = true;  // nothing written yet counts as blank
  bool m_last_opened = false;
};

}  // namespace crossproc::gen
