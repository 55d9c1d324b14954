#include "libs/mail/file_mailer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "libs/common/ids.hpp"
#include "libs/common/time.hpp"
#include "libs/mail/message.hpp"

namespace orderflow::mail {
namespace {

Error write_failed(const std::string& what) {
  return Error{"mail-write-failed", what + ": " + std::strerror(errno), true};
}

}  // namespace

FileMailer::FileMailer(std::filesystem::path dir) : dir_(std::move(dir)) {}

Status FileMailer::send(const Message& message) {
  auto now = std::chrono::system_clock::now();
  auto text = render(message, now, new_message_id(message.from));
  if (!text) return text.error();

  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    return Error{"mail-write-failed", "cannot create " + dir_.string() + ": " + ec.message(), true};

  std::string name = std::to_string(epoch_ms(now)) + "-" + ids::uuid() + ".eml";
  auto final_path = dir_ / name;
  auto tmp_path = dir_ / ("." + name + ".tmp");
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return write_failed("cannot create " + tmp_path.string());
  const char* p = text->data();
  std::size_t left = text->size();
  while (left > 0) {
    auto n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto err = write_failed("cannot write " + tmp_path.string());
      ::close(fd);
      ::unlink(tmp_path.c_str());
      return err;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto err = write_failed("cannot fsync " + tmp_path.string());
    ::close(fd);
    ::unlink(tmp_path.c_str());
    return err;
  }
  ::close(fd);
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    auto err = write_failed("cannot rename to " + final_path.string());
    ::unlink(tmp_path.c_str());
    return err;
  }
  return ok_status();
}

}  // namespace orderflow::mail
