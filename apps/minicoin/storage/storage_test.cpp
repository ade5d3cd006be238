// Tests of the record files, the database wrapper and the stored encodings.
#include "storage/block_files.h"
#include "storage/database.h"
#include "storage/records.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace minicoin {
namespace {

// A fresh directory removed at the end of the test.
struct TempDir {
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("minicoin-storage-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::filesystem::path path;
  static inline int counter = 0;
};

std::vector<uint8_t> Bytes(std::size_t size, uint8_t seed) {
  std::vector<uint8_t> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(seed + i * 7);
  return bytes;
}

TEST(RecordFiles, AppendsReadsAndStartsNewFilesPastTheLimit) {
  TempDir dir;
  std::vector<FilePosition> positions;
  {
    RecordFiles files({.dir = dir.path, .prefix = "blk", .max_file_size = 1000, .sync = false});
    for (uint8_t i = 0; i < 10; ++i) positions.push_back(files.Append(Bytes(300, i)));
    EXPECT_EQ(positions[0], (FilePosition{0, 0}));
    EXPECT_EQ(positions[1], (FilePosition{0, 312}));
    EXPECT_EQ(positions[3].file, 1u);  // three records of 312 bytes fit in 1000
    for (uint8_t i = 0; i < 10; ++i) EXPECT_EQ(files.Read(positions[i]), Bytes(300, i));
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path / "blk00000.dat"));
  EXPECT_TRUE(std::filesystem::exists(dir.path / "blk00003.dat"));
  // Reopened: appends go after the last record, earlier records stay readable.
  RecordFiles files({.dir = dir.path, .prefix = "blk", .max_file_size = 1000, .sync = false});
  FilePosition next = files.Append(Bytes(10, 99));
  EXPECT_EQ(next.file, 3u);
  EXPECT_GT(next.offset, positions[9].offset);
  EXPECT_EQ(files.Read(next), Bytes(10, 99));
  EXPECT_EQ(files.Read(positions[4]), Bytes(300, 4));
  for (std::size_t i = 1; i < positions.size(); ++i) EXPECT_LT(positions[i - 1], positions[i]);
}

TEST(RecordFiles, DeferredAppendsWaitForOneSync) {
  TempDir dir;
  RecordFiles files({.dir = dir.path, .prefix = "blk", .max_file_size = 1000, .sync = true});
  EXPECT_FALSE(files.HasUnsynced());
  FilePosition first = files.Append(Bytes(300, 1));
  EXPECT_FALSE(files.HasUnsynced());  // synced before Append returned
  std::vector<FilePosition> deferred;
  for (uint8_t i = 0; i < 4; ++i) deferred.push_back(files.Append(Bytes(300, i), true));
  EXPECT_EQ(deferred.back().file, 1u);  // into a new file
  EXPECT_TRUE(files.HasUnsynced());
  for (uint8_t i = 0; i < 4; ++i) EXPECT_EQ(files.Read(deferred[i]), Bytes(300, i));  // readable before the sync
  files.Sync();
  EXPECT_FALSE(files.HasUnsynced());
  files.Sync();  // nothing pending: nothing to do

  // A pending file removed meanwhile (pruned) is passed over.
  files.Append(Bytes(300, 7), true);
  files.Append(Bytes(300, 8), true);
  EXPECT_EQ(files.CurrentFile(), 2u);
  ASSERT_TRUE(files.RemoveFile(1));
  files.Sync();
  EXPECT_FALSE(files.HasUnsynced());
  EXPECT_EQ(files.Read(first), Bytes(300, 1));

  // Without RecordFilesOptions::sync nothing is ever pending.
  RecordFiles unsynced({.dir = dir.path / "other", .prefix = "blk", .sync = false});
  unsynced.Append(Bytes(10, 1), true);
  EXPECT_FALSE(unsynced.HasUnsynced());
}

TEST(RecordFiles, DetectsCorruptionAndBadPositions) {
  TempDir dir;
  RecordFiles files({.dir = dir.path, .prefix = "rev", .sync = false});
  FilePosition first = files.Append(Bytes(100, 1));
  FilePosition second = files.Append(Bytes(100, 2));
  std::string error;
  EXPECT_FALSE(files.Read(FilePosition{0, 5}, &error).has_value());
  EXPECT_NE(error.find("no record"), std::string::npos) << error;
  EXPECT_FALSE(files.Read(FilePosition{7, 0}, &error).has_value());
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
  {
    std::fstream file(dir.path / "rev00000.dat", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(first.offset + 50);
    file.put('\x55');
  }
  EXPECT_FALSE(files.Read(first, &error).has_value());
  EXPECT_NE(error.find("checksum"), std::string::npos) << error;
  EXPECT_EQ(files.Read(second), Bytes(100, 2));
  std::filesystem::resize_file(dir.path / "rev00000.dat", second.offset + 40);
  EXPECT_FALSE(files.Read(second, &error).has_value());
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  // A torn tail is skipped over by the next append.
  FilePosition third = files.Append(Bytes(20, 3));
  EXPECT_EQ(files.Read(third), Bytes(20, 3));
}

TEST(RecordFiles, ListsScansAndRemovesFiles) {
  TempDir dir;
  std::vector<FilePosition> positions;
  RecordFiles files({.dir = dir.path, .prefix = "blk", .max_file_size = 1000, .sync = false});
  for (uint8_t i = 0; i < 7; ++i) positions.push_back(files.Append(Bytes(300, i)));
  std::ofstream(dir.path / "blkXYZ.dat") << "not a record file";
  std::ofstream(dir.path / "rev00005.dat") << "another prefix";
  EXPECT_EQ(ListRecordFiles(dir.path, "blk"), (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(files.CurrentFile(), 2u);
  EXPECT_TRUE(ListRecordFiles(dir.path / "missing", "blk").empty());

  // Every record of a file, in order.
  std::vector<std::pair<FilePosition, std::vector<uint8_t>>> seen;
  auto collect = [&](FilePosition position, std::span<const uint8_t> payload) {
    seen.emplace_back(position, std::vector<uint8_t>(payload.begin(), payload.end()));
    return true;
  };
  EXPECT_EQ(ForEachRecord(files.FilePath(1), 1, collect), 0u);
  ASSERT_EQ(seen.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(seen[i].first, positions[3 + i]);
    EXPECT_EQ(seen[i].second, Bytes(300, static_cast<uint8_t>(3 + i)));
  }

  // The current file cannot go; older ones can, and a reopened set appends to the last file.
  std::string error;
  EXPECT_FALSE(files.RemoveFile(2, &error));
  EXPECT_NE(error.find("being written"), std::string::npos) << error;
  EXPECT_TRUE(files.RemoveFile(0, &error)) << error;
  EXPECT_TRUE(files.RemoveFile(1, &error)) << error;
  EXPECT_EQ(ListRecordFiles(dir.path, "blk"), (std::vector<uint32_t>{2}));
  EXPECT_FALSE(files.Read(positions[0]).has_value());
  RecordFiles again({.dir = dir.path, .prefix = "blk", .max_file_size = 1000, .sync = false});
  EXPECT_EQ(again.CurrentFile(), 2u);
  FilePosition next = again.Append(Bytes(10, 9));
  EXPECT_EQ(next.file, 2u);
  EXPECT_EQ(again.Read(positions[6]), Bytes(300, 6));
}

TEST(RecordFiles, ScanningStepsOverTornAndCorruptRecords) {
  TempDir dir;
  std::vector<FilePosition> positions;
  {
    RecordFiles files({.dir = dir.path, .prefix = "blk", .sync = false});
    for (uint8_t i = 0; i < 4; ++i) positions.push_back(files.Append(Bytes(100, i)));
  }
  const std::filesystem::path path = dir.path / "blk00000.dat";
  {
    // The second record's payload damaged, the third's magic gone.
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(positions[1].offset + 30);
    file.put('\x55');
    file.seekp(positions[2].offset);
    file.put('X');
  }
  // A torn record at the end: a header promising more than the file holds.
  {
    std::ofstream file(path, std::ios::app | std::ios::binary);
    file.write("MCRC\xff\x00\x00\x00" "abcdef", 14);
  }
  {
    RecordFiles files({.dir = dir.path, .prefix = "blk", .sync = false});
    positions.push_back(files.Append(Bytes(50, 9)));  // after the torn tail
  }
  std::vector<FilePosition> seen;
  uint64_t skipped = ForEachRecord(path, 0, [&](FilePosition position, std::span<const uint8_t>) {
    seen.push_back(position);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<FilePosition>{positions[0], positions[3], positions[4]}));
  EXPECT_EQ(skipped, 2 * 112u + 14u);
  // fn may stop the scan.
  int calls = 0;
  ForEachRecord(path, 0, [&](FilePosition, std::span<const uint8_t>) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);
  EXPECT_THROW(ForEachRecord(dir.path / "blk00009.dat", 9, [](FilePosition, std::span<const uint8_t>) { return true; }),
               std::runtime_error);
}

TEST(RecordFiles, RefusesAFileInPlaceOfTheDirectory) {
  TempDir dir;
  std::filesystem::create_directories(dir.path);
  std::ofstream(dir.path / "blocks") << "not a directory";
  try {
    RecordFiles files({.dir = dir.path / "blocks", .prefix = "blk"});
    FAIL() << "opened a file as a directory";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create directory"), std::string::npos) << e.what();
  }
}

TEST(Database, BatchesAndPrefixScans) {
  TempDir dir;
  {
    Database db({.dir = dir.path});
    DatabaseBatch batch;
    batch.Put("a1", "one");
    batch.Put("b1", "x");
    batch.Put("a2", "two");
    batch.Put("a3", "three");
    batch.Delete("a3");
    db.Write(batch, true);
    EXPECT_EQ(db.Get("a1"), "one");
    EXPECT_FALSE(db.Get("a3").has_value());
    // A second opener is kept out by LevelDB's lock.
    EXPECT_THROW(Database({.dir = dir.path}), std::runtime_error);
  }
  Database db({.dir = dir.path});
  std::vector<std::string> seen;
  db.ForEach("a", [&](std::string_view key, std::string_view value) {
    seen.push_back(std::string(key) + "=" + std::string(value));
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a1=one", "a2=two"}));
}

// The tables (*.ldb) in a LevelDB directory.
int TableCount(const std::filesystem::path& dir) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    count += entry.path().extension() == ".ldb";
  return count;
}

TEST(Database, WriteOutLogMovesTheLoggedWritesIntoATable) {
  TempDir dir;
  Database db({.dir = dir.path});
  DatabaseBatch batch;
  for (int i = 0; i < 1000; ++i) batch.Put("k" + std::to_string(i), std::string(100, 'v'));
  db.Write(batch, true);
  EXPECT_EQ(TableCount(dir.path), 0);  // only in the log and the memory table
  db.WriteOutLog();
  EXPECT_EQ(TableCount(dir.path), 1);
  EXPECT_EQ(db.Get("k999"), std::string(100, 'v'));
  db.WriteOutLog();  // nothing new: harmless
  EXPECT_EQ(TableCount(dir.path), 1);
}

TEST(Records, CoinsKeysAndUndoRoundTrip) {
  std::array<uint8_t, 32> txid{};
  txid[0] = 1;
  txid[31] = 2;
  OutPoint outpoint{Uint256(txid), 0x01020304};
  std::string key = CoinKey(outpoint);
  EXPECT_EQ(key.size(), 37u);
  EXPECT_EQ(static_cast<uint8_t>(key[33]), 1);  // big-endian index
  EXPECT_EQ(DecodeCoinKey(key), outpoint);
  EXPECT_LT(CoinKey(OutPoint{Uint256(txid), 1}), CoinKey(OutPoint{Uint256(txid), 256}));
  EXPECT_THROW(DecodeCoinKey("c123"), DecodeError);

  Coin coin{TxOut{5 * kCoin, XOnlyPublicKey{9}}, 17, true};
  EXPECT_EQ(DecodeCoin(EncodeCoin(coin)), coin);
  EXPECT_THROW(DecodeCoin(EncodeCoin(coin) + "x"), DecodeError);
  std::string bad_flag = EncodeCoin(coin);
  bad_flag.back() = 2;
  EXPECT_THROW(DecodeCoin(bad_flag), DecodeError);

  BlockUndo undo;
  undo.spent = {{coin}, {coin, Coin{TxOut{1, XOnlyPublicKey{}}, 3, false}}};
  BlockUndo again = DecodeUndo(EncodeUndo(undo));
  EXPECT_EQ(again.spent, undo.spent);
  std::vector<uint8_t> truncated = EncodeUndo(undo);
  truncated.pop_back();
  EXPECT_THROW(DecodeUndo(truncated), DecodeError);
}

}  // namespace
}  // namespace minicoin
