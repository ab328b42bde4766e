#include "assets/asset_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "assets/environment_builder.h"
#include "assets/hash_cache.h"
#include "core/fs.h"
#include "core/ids.h"
#include "core/sha256.h"
#include "store/sqlite/sqlite_asset_store.h"
#include "store/sqlite/sqlite_store.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

// The service over a real SQLite workspace and a real local artifact store,
// wired the way `cairn server` wires them.
class AssetServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_asset_service_test_" + NewRunId());
    ASSERT_TRUE(fs::create_directories(dir_));
    auto s = sqlite::SqliteStore::Open((dir_ / "cairn.db").string(), StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    asset_store_ = std::make_unique<sqlite::SqliteAssetStore>(*store_);
    artifact_root_ = dir_ / "artifacts";
    auto artifacts = OpenLocalArtifactStore(artifact_root_);
    ASSERT_TRUE(artifacts.ok()) << artifacts.status().ToString();
    artifacts_ = std::move(artifacts).value();
    auto cache = HashCache::Open(dir_ / "hash-cache.db");
    ASSERT_TRUE(cache.ok()) << cache.status().ToString();
    hash_cache_ = std::move(cache).value();
    builder_ = std::make_unique<EnvironmentBuilder>(dir_ / "envs", "/usr/bin/python3");
    builder_->set_extra_pip_env({{"PIP_NO_INDEX", "1"}});
    service_ = std::make_unique<AssetService>(*asset_store_, *store_, *artifacts_,
                                              hash_cache_.get(), builder_.get());
  }

  void TearDown() override {
    service_.reset();
    builder_.reset();
    hash_cache_.reset();
    artifacts_.reset();
    asset_store_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Uploads `content` as a blob (as a client does before data/create) and
  // returns the manifest entry naming it at `path`.
  ManifestFile Upload(const std::string& path, const std::string& content) {
    std::string sha = Sha256Hex(content);
    auto blob = service_->PutBlob(sha, "", {}, content);
    EXPECT_TRUE(blob.ok()) << blob.status().ToString();
    return {path, sha, static_cast<int64_t>(content.size())};
  }

  // Files under <artifacts>/blobs/ outside the temp area: the stored blobs.
  std::vector<std::string> StoredBlobs() {
    std::vector<std::string> names;
    fs::path tmp = fs::weakly_canonical(artifacts_->SpoolDirectory());
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(artifact_root_ / "blobs", ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (fs::weakly_canonical(it->path()) == tmp) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file()) names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<AssetStore::Created> CreateData(const std::string& name, const std::string& version,
                                         std::vector<ManifestFile> files,
                                         const std::string& type = "") {
    NewDataVersion d;
    d.name = name;
    d.version = version;
    d.type = type;
    d.files = std::move(files);
    return service_->CreateData(std::move(d));
  }

  Result<AssetStore::Created> CreateFromDatastore(const std::string& name, const std::string& uri,
                                                  const std::string& version = "") {
    NewDataVersion d;
    d.name = name;
    d.version = version;
    d.datastore_uri = uri;
    return service_->CreateData(std::move(d));
  }

  void WriteFile(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    ASSERT_TRUE(AtomicWriteFile(p, content).ok()) << p;
  }

  // A datastore "<name>" rooted at <dir>/<name>/ holding a file and a folder.
  fs::path MakeDatastore(const std::string& name) {
    fs::path root = dir_ / ("ds-" + name);
    WriteFile(root / "flights.csv", "a,b\n1,2\n");
    WriteFile(root / "folder" / "part-0.csv", "x\n1\n");
    WriteFile(root / "folder" / "sub" / "part-1.csv", "x\n2\n");
    Status st = service_->CreateDatastore({name, "local", root.string(), "", 0});
    EXPECT_TRUE(st.ok()) << st.ToString();
    return root;
  }

  std::string NewRunId_() {
    NewRun nr;
    nr.experiment_id = "0";
    auto r = store_->CreateRun(nr);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->info.run_id : "";
  }

  // Versions of `name` as the list answers them, following every page.
  std::vector<std::string> AllVersions(const std::string& name, int64_t page_size) {
    std::vector<std::string> out;
    std::string token;
    for (int pages = 0; pages < 100; ++pages) {
      auto page = service_->List(kDataAsset, name, false, page_size, token);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      EXPECT_LE(static_cast<int64_t>(page->items.size()), page_size);
      for (const AssetVersion& v : page->items) out.push_back(v.name + ":" + v.version);
      if (page->next_page_token.empty()) break;
      token = page->next_page_token;
    }
    return out;
  }

  static std::set<std::string> EdgeSet(const std::vector<LineageEdge>& edges) {
    std::set<std::string> out;
    for (const LineageEdge& e : edges) out.insert(e.src + " -> " + e.dst);
    return out;
  }

  fs::path dir_;
  fs::path artifact_root_;
  std::unique_ptr<sqlite::SqliteStore> store_;
  std::unique_ptr<sqlite::SqliteAssetStore> asset_store_;
  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<HashCache> hash_cache_;
  std::unique_ptr<EnvironmentBuilder> builder_;
  std::unique_ptr<AssetService> service_;
};

// ---- data versions from uploaded blobs -------------------------------------------------------

TEST_F(AssetServiceTest, OmittedVersionsCountUpFromOne) {
  for (int i = 1; i <= 3; ++i) {
    auto c = CreateData("flights", "", {Upload("f.csv", "rows " + std::to_string(i))});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE(c->created);
    EXPECT_EQ(c->asset.version, std::to_string(i));
    EXPECT_EQ(c->asset.type, "uri_file");
    EXPECT_EQ(c->asset.file_count, 1);
  }
  auto latest = service_->Resolve(kDataAsset, "flights@latest");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->version, "3");
  auto files = service_->ListFiles(*latest);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].path, "f.csv");
  auto bytes = artifacts_->Get(latest->storage_path + "/f.csv");
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, "rows 3");
}

TEST_F(AssetServiceTest, ExplicitVersionIsKeptAndAzurePrefixResolves) {
  auto c = CreateData("flights", "2024.01", {Upload("f.csv", "jan")});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->asset.version, "2024.01");
  auto got = service_->Resolve(kDataAsset, "azureml:flights:2024.01");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->content_hash, c->asset.content_hash);
}

TEST_F(AssetServiceTest, SameVersionSameContentIsIdempotent) {
  auto first = CreateData("flights", "1", {Upload("f.csv", "same")});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  auto again = CreateData("flights", "1", {Upload("f.csv", "same")});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->asset.content_hash, first->asset.content_hash);
  EXPECT_EQ(again->asset.creation_time, first->asset.creation_time);
}

TEST_F(AssetServiceTest, VersionsAreImmutable) {
  auto first = CreateData("flights", "1", {Upload("f.csv", "original")});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto blobs_before = StoredBlobs();
  auto other = Upload("f.csv", "changed");
  auto refused = CreateData("flights", "1", {other});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kResourceAlreadyExists)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("immutable"), std::string::npos);
  // Same content, different type is a different version too.
  auto retyped = CreateData("flights", "1", {Upload("f.csv", "original")}, "uri_folder");
  ASSERT_FALSE(retyped.ok());
  EXPECT_EQ(retyped.status().code(), ErrorCode::kResourceAlreadyExists);

  auto now = service_->Resolve(kDataAsset, "flights:1");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->content_hash, first->asset.content_hash);
  auto bytes = artifacts_->Get(now->storage_path + "/f.csv");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, "original");
  auto page = service_->List(kDataAsset, "flights", true, 100, "");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 1u);
  // The refused content's blob was uploaded before (by Upload), nothing else was added.
  std::vector<std::string> expected = blobs_before;
  expected.push_back(other.sha256);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(StoredBlobs(), expected);
}

TEST_F(AssetServiceTest, IdenticalContentUnderAnotherNameIsStoredOnce) {
  auto a = CreateData("flights", "", {Upload("f.csv", "shared bytes"), Upload("g.csv", "more")});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->asset.type, "uri_folder");
  auto blobs = StoredBlobs();
  EXPECT_EQ(blobs.size(), 2u);
  auto b = CreateData("trips", "", {Upload("f.csv", "shared bytes"), Upload("g.csv", "more")});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(b->created);
  EXPECT_EQ(b->asset.content_hash, a->asset.content_hash);
  EXPECT_EQ(b->asset.storage_path, a->asset.storage_path);
  EXPECT_EQ(StoredBlobs(), blobs);
  // The same bytes at another path: a new content hash, still no new blob.
  auto c = CreateData("renamed", "", {Upload("h.csv", "shared bytes")});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NE(c->asset.storage_path, a->asset.storage_path);
  EXPECT_EQ(StoredBlobs(), blobs);
}

TEST_F(AssetServiceTest, UriFileHoldsExactlyOneFile) {
  auto r = CreateData("two", "", {Upload("a", "1"), Upload("b", "2")}, "uri_file");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(r.status().message().find("uri_folder"), std::string::npos);
  EXPECT_EQ(service_->Resolve(kDataAsset, "two@latest").status().code(),
            ErrorCode::kResourceDoesNotExist);
}

TEST_F(AssetServiceTest, TraversalPathsInManifestAreRefused) {
  ManifestFile good = Upload("ok.csv", "fine");
  const std::string bad_paths[] = {"../x",     "/etc/passwd", "a/../../b", "%2e%2e/x", "..%2fx",
                                   "a\\..\\b", "..",          "./x",       "file:/x",  ""};
  for (const std::string& p : bad_paths) {
    ManifestFile f = good;
    f.path = p;
    auto r = CreateData("trav", "", {f});
    ASSERT_FALSE(r.ok()) << "accepted manifest path '" << p << "'";
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue) << p;
  }
  ManifestFile nul = good;
  nul.path = std::string("a\0b", 3);
  auto r = CreateData("trav", "", {nul});
  ASSERT_FALSE(r.ok()) << "accepted a NUL in a manifest path";
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue);
  // Nothing was registered and nothing written outside the store.
  EXPECT_EQ(service_->Resolve(kDataAsset, "trav@latest").status().code(),
            ErrorCode::kResourceDoesNotExist);
  EXPECT_FALSE(fs::exists(dir_ / "x"));
  EXPECT_FALSE(fs::exists(dir_ / "b"));
}

TEST_F(AssetServiceTest, MissingBlobIsNamed) {
  ManifestFile present = Upload("a.csv", "present");
  std::string absent = Sha256Hex("never uploaded");
  auto r = CreateData("gap", "", {present, {"b.csv", absent, 14}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidState);
  EXPECT_NE(r.status().message().find(absent), std::string::npos) << r.status().ToString();
  EXPECT_EQ(service_->Resolve(kDataAsset, "gap@latest").status().code(),
            ErrorCode::kResourceDoesNotExist);
  auto missing = service_->MissingBlobs({present.sha256, absent});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, std::vector<std::string>{absent});
}

TEST_F(AssetServiceTest, PutBlobRefusesBytesThatDoNotMatchTheirHash) {
  std::string claimed = Sha256Hex("what the client promised");
  auto r = service_->PutBlob(claimed, "", {}, "something else");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_FALSE(artifacts_->HasBlob(claimed));
  EXPECT_FALSE(artifacts_->HasBlob(Sha256Hex("something else")));
  EXPECT_TRUE(StoredBlobs().empty());
  // Nor is a name that is not a hash taken as one.
  for (const std::string& bad : {std::string("../../etc/passwd"), std::string("abc"),
                                 std::string(64, 'G'), claimed.substr(0, 63) + "/"}) {
    auto b = service_->PutBlob(bad, "", {}, "x");
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.status().code(), ErrorCode::kInvalidParameterValue);
  }
  EXPECT_TRUE(StoredBlobs().empty());
  // The spool holds no leftovers of the refused uploads.
  std::error_code ec;
  EXPECT_TRUE(fs::is_empty(artifacts_->SpoolDirectory(), ec));
}

TEST_F(AssetServiceTest, LatestSkipsArchivedAndRestoreBringsItBack) {
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(CreateData("flights", "", {Upload("f", std::to_string(i))}).ok());
  }
  auto archived = service_->SetArchived(kDataAsset, "flights:3", true);
  ASSERT_TRUE(archived.ok()) << archived.status().ToString();
  EXPECT_TRUE(archived->archived);
  auto latest = service_->Resolve(kDataAsset, "flights@latest");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, "2");
  // Archived versions stay readable by exact version, and out of default lists.
  EXPECT_TRUE(service_->Resolve(kDataAsset, "flights:3").ok());
  EXPECT_EQ(AllVersions("flights", 100), (std::vector<std::string>{"flights:2", "flights:1"}));
  auto with_archived = service_->List(kDataAsset, "flights", true, 100, "");
  ASSERT_TRUE(with_archived.ok());
  EXPECT_EQ(with_archived->items.size(), 3u);
  // The next number still follows the highest version, archived or not.
  auto next = CreateData("flights", "", {Upload("f", "4")});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->asset.version, "4");
  ASSERT_TRUE(service_->SetArchived(kDataAsset, "flights:4", true).ok());

  auto restored = service_->SetArchived(kDataAsset, "flights:3", false);
  ASSERT_TRUE(restored.ok());
  EXPECT_FALSE(restored->archived);
  EXPECT_EQ(service_->Resolve(kDataAsset, "flights@latest")->version, "3");

  EXPECT_EQ(service_->SetArchived(kDataAsset, "flights@latest", true).status().code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(service_->SetArchived(kDataAsset, "flights:99", true).status().code(),
            ErrorCode::kResourceDoesNotExist);
  // Every version archived: @latest has nothing to answer.
  for (const char* v : {"flights:1", "flights:2", "flights:3"}) {
    ASSERT_TRUE(service_->SetArchived(kDataAsset, v, true).ok());
  }
  EXPECT_EQ(service_->Resolve(kDataAsset, "flights@latest").status().code(),
            ErrorCode::kResourceDoesNotExist);
}

TEST_F(AssetServiceTest, ListsLatestPerNameAndVersionsPerNameWithPaging) {
  for (const std::string name : {"charlie", "alpha", "bravo"}) {
    for (int i = 1; i <= 3; ++i) {
      ASSERT_TRUE(CreateData(name, "", {Upload("f", name + std::to_string(i))}).ok());
    }
  }
  // Latest of every name, by name, two per page.
  std::vector<std::string> latest;
  std::string token;
  int pages = 0;
  do {
    auto page = service_->List(kDataAsset, "", false, 2, token);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const AssetVersion& v : page->items) latest.push_back(v.name + ":" + v.version);
    token = page->next_page_token;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(latest, (std::vector<std::string>{"alpha:3", "bravo:3", "charlie:3"}));
  // One name's versions, newest first, one per page.
  EXPECT_EQ(AllVersions("bravo", 1), (std::vector<std::string>{"bravo:3", "bravo:2", "bravo:1"}));
  EXPECT_EQ(AllVersions("bravo", 2), (std::vector<std::string>{"bravo:3", "bravo:2", "bravo:1"}));

  for (const std::string bad : {"garbage!", "LTE=", "!!!!"}) {
    EXPECT_EQ(service_->List(kDataAsset, "", false, 10, bad).status().code(),
              ErrorCode::kInvalidParameterValue)
        << bad;
  }
  EXPECT_EQ(service_->List(kDataAsset, "", false, 0, "").status().code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(service_->List(kDataAsset, "", false, 1001, "").status().code(),
            ErrorCode::kInvalidParameterValue);
}

// ---- datastores --------------------------------------------------------------------------------

TEST_F(AssetServiceTest, DatastoreRootsCanBeConfinedToAllowedFolders) {
  fs::create_directories(dir_ / "allowed" / "raw");
  fs::create_directories(dir_ / "allowed-not" / "raw");
  service_->SetDatastoreRoots({dir_ / "allowed"});
  Status inside =
      service_->CreateDatastore({"in", "local", (dir_ / "allowed" / "raw").string(), "", 0});
  EXPECT_TRUE(inside.ok()) << inside.ToString();
  // A sibling whose name merely starts with the allowed folder's is outside.
  Status sibling =
      service_->CreateDatastore({"out", "local", (dir_ / "allowed-not" / "raw").string(), "", 0});
  EXPECT_EQ(sibling.code(), ErrorCode::kPermissionDenied) << sibling.ToString();
  Status up = service_->CreateDatastore(
      {"up", "local", (dir_ / "allowed" / "raw" / ".." / "..").string(), "", 0});
  EXPECT_EQ(up.code(), ErrorCode::kPermissionDenied) << up.ToString();
  EXPECT_FALSE(service_->GetDatastore("out").ok());
}

TEST_F(AssetServiceTest, DatastoreCreationValidatesItsRoot) {
  fs::path root = dir_ / "store-root";
  fs::create_directories(root);
  Status rel = service_->CreateDatastore({"rel", "local", "relative/dir", "", 0});
  EXPECT_EQ(rel.code(), ErrorCode::kInvalidParameterValue) << rel.ToString();
  Status missing = service_->CreateDatastore({"gone", "local", (dir_ / "nope").string(), "", 0});
  EXPECT_EQ(missing.code(), ErrorCode::kInvalidParameterValue) << missing.ToString();
  WriteFile(dir_ / "a-file", "x");
  Status file = service_->CreateDatastore({"file", "local", (dir_ / "a-file").string(), "", 0});
  EXPECT_EQ(file.code(), ErrorCode::kInvalidParameterValue) << file.ToString();
  Status bad_name = service_->CreateDatastore({"../up", "local", root.string(), "", 0});
  EXPECT_EQ(bad_name.code(), ErrorCode::kInvalidParameterValue) << bad_name.ToString();

  Status ok = service_->CreateDatastore({"main", "", root.string(), "the main one", 0});
  ASSERT_TRUE(ok.ok()) << ok.ToString();
  Status dup = service_->CreateDatastore({"main", "local", root.string(), "", 0});
  EXPECT_EQ(dup.code(), ErrorCode::kResourceAlreadyExists) << dup.ToString();

  auto got = service_->GetDatastore("main");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->type, "local");
  EXPECT_EQ(got->root, fs::canonical(root).string());
  EXPECT_EQ(got->description, "the main one");
  auto all = service_->ListDatastores();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(service_->GetDatastore("rel").status().code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(AssetServiceTest, DataFromDatastoreFileAndFolder) {
  MakeDatastore("lake");
  auto file = CreateFromDatastore("flights", "azureml://datastores/lake/paths/flights.csv");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->asset.type, "uri_file");
  EXPECT_EQ(file->asset.source, "azureml://datastores/lake/paths/flights.csv");
  auto files = service_->ListFiles(file->asset);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].path, "flights.csv");
  EXPECT_EQ(*artifacts_->Get(file->asset.storage_path + "/flights.csv"), "a,b\n1,2\n");

  auto folder = CreateFromDatastore("parts", "azureml://datastores/lake/paths/folder");
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  EXPECT_EQ(folder->asset.type, "uri_folder");
  EXPECT_EQ(folder->asset.file_count, 2);
  files = service_->ListFiles(folder->asset);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, "part-0.csv");
  EXPECT_EQ((*files)[1].path, "sub/part-1.csv");
  EXPECT_EQ(*artifacts_->Get(folder->asset.storage_path + "/sub/part-1.csv"), "x\n2\n");

  // The same content through the long Azure form and cairn:// is the same version.
  auto long_form = CreateFromDatastore(
      "parts-long",
      "azureml://subscriptions/s/resourcegroups/g/workspaces/w/datastores/lake/paths/folder");
  ASSERT_TRUE(long_form.ok()) << long_form.status().ToString();
  EXPECT_EQ(long_form->asset.content_hash, folder->asset.content_hash);
  auto cairn = CreateFromDatastore("parts-cairn", "cairn://datastores/lake/paths/folder/");
  ASSERT_TRUE(cairn.ok()) << cairn.status().ToString();
  EXPECT_EQ(cairn->asset.content_hash, folder->asset.content_hash);

  // Unknown datastore, missing path, empty folder.
  EXPECT_EQ(CreateFromDatastore("x", "azureml://datastores/nope/paths/a").status().code(),
            ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(CreateFromDatastore("x", "azureml://datastores/lake/paths/absent.csv").status().code(),
            ErrorCode::kResourceDoesNotExist);
  fs::create_directories(dir_ / "ds-lake" / "empty");
  EXPECT_EQ(CreateFromDatastore("x", "azureml://datastores/lake/paths/empty").status().code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(CreateFromDatastore("x", "https://example.com/data.csv").status().code(),
            ErrorCode::kInvalidParameterValue);
}

TEST_F(AssetServiceTest, DatastoreVersionIsImmutableToo) {
  fs::path root = MakeDatastore("lake");
  auto first = CreateFromDatastore("flights", "azureml://datastores/lake/paths/flights.csv", "1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = CreateFromDatastore("flights", "azureml://datastores/lake/paths/flights.csv", "1");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->created);
  // The file changed on the datastore: registering it as version 1 again is refused.
  WriteFile(root / "flights.csv", "a,b\n9,9\n");
  auto changed = CreateFromDatastore("flights", "azureml://datastores/lake/paths/flights.csv", "1");
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), ErrorCode::kResourceAlreadyExists);
  auto other_path = CreateFromDatastore("flights", "azureml://datastores/lake/paths/folder", "1");
  EXPECT_EQ(other_path.status().code(), ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(*artifacts_->Get(first->asset.storage_path + "/flights.csv"), "a,b\n1,2\n");
}

TEST_F(AssetServiceTest, DatastorePathsCannotLeaveTheDatastore) {
  fs::path root = MakeDatastore("lake");
  WriteFile(dir_ / "secret.txt", "top secret");
  fs::create_directories(dir_ / "secret-dir");
  WriteFile(dir_ / "secret-dir" / "s.txt", "top secret");
  fs::create_symlink(dir_ / "secret.txt", root / "link-out.txt");
  fs::create_directories(root / "linked");
  fs::create_directory_symlink(dir_ / "secret-dir", root / "linked" / "dir-out");

  const std::string bad[] = {
      "azureml://datastores/lake/paths/../secret.txt",
      "azureml://datastores/lake/paths/../..",
      "azureml://datastores/lake/paths/folder/../../secret.txt",
      "azureml://datastores/lake/paths/%2e%2e/secret.txt",
      "azureml://datastores/lake/paths//etc/passwd",
      "azureml://datastores/lake/paths/link-out.txt",
      "azureml://datastores/lake/paths/linked",
      "azureml://datastores/lake/paths/linked/dir-out/s.txt",
      "azureml://datastores/../lake/paths/flights.csv",
      "cairn://datastores/lake/paths/folder\\..\\..\\secret.txt",
  };
  for (const std::string& uri : bad) {
    auto r = CreateFromDatastore("escape", uri);
    ASSERT_FALSE(r.ok()) << "accepted " << uri;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue)
        << uri << ": " << r.status().ToString();
  }
  EXPECT_EQ(service_->Resolve(kDataAsset, "escape@latest").status().code(),
            ErrorCode::kResourceDoesNotExist);
  EXPECT_FALSE(artifacts_->HasBlob(Sha256Hex("top secret")));
  // A walk that meets an escaping link refuses the whole registration rather
  // than skipping the link; without the links the root registers.
  auto whole = CreateFromDatastore("whole", "azureml://datastores/lake/paths/");
  EXPECT_EQ(whole.status().code(), ErrorCode::kInvalidParameterValue);
  fs::remove(root / "link-out.txt");
  fs::remove(root / "linked" / "dir-out");
  whole = CreateFromDatastore("whole", "azureml://datastores/lake");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->asset.file_count, 3);
}

TEST_F(AssetServiceTest, SymlinkInsideTheDatastoreIsFollowed) {
  fs::path root = MakeDatastore("lake");
  fs::create_symlink(root / "flights.csv", root / "folder" / "alias.csv");
  auto r = CreateFromDatastore("aliased", "azureml://datastores/lake/paths/folder");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->asset.file_count, 3);
  EXPECT_EQ(*artifacts_->Get(r->asset.storage_path + "/alias.csv"), "a,b\n1,2\n");
}

TEST_F(AssetServiceTest, ServerHashCacheAnswersForAnUnchangedDatastoreFile) {
  fs::path root = MakeDatastore("lake");
  fs::path file = fs::canonical(root / "flights.csv");
  auto stamp = StampFile(file);
  ASSERT_TRUE(stamp.ok());
  EXPECT_FALSE(hash_cache_->Lookup(file, *stamp).has_value());
  auto first = CreateFromDatastore("flights", "azureml://datastores/lake/paths/flights.csv");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto cached = hash_cache_->Lookup(file, *stamp);
  ASSERT_TRUE(cached.has_value()) << "the first registration did not fill the hash cache";
  EXPECT_EQ(*cached, Sha256Hex("a,b\n1,2\n"));

  // Prove the second registration answers from the cache, not by rereading: point
  // the cache entry at another stored blob of the same size; a cache hit
  // registers that blob's content.
  ManifestFile decoy = Upload("decoy", "c,d\n3,4\n");
  ASSERT_EQ(decoy.size, stamp->size);
  hash_cache_->Remember(file, *stamp, decoy.sha256);
  auto second = CreateFromDatastore("flights-again", "azureml://datastores/lake/paths/flights.csv");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*artifacts_->Get(second->asset.storage_path + "/flights.csv"), "c,d\n3,4\n")
      << "the second registration reread the file instead of using the hash cache";

  // A changed file misses the cache and is read again.
  WriteFile(root / "flights.csv", "e,f\n5,6\n");
  auto third =
      CreateFromDatastore("flights-changed", "azureml://datastores/lake/paths/flights.csv");
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(*artifacts_->Get(third->asset.storage_path + "/flights.csv"), "e,f\n5,6\n");
}

// ---- code snapshots ----------------------------------------------------------------------------

TEST_F(AssetServiceTest, CodeSnapshotsAreNamedByTheirContent) {
  NewCodeSnapshot code;
  code.files = {Upload("train.py", "print('hi')\n"), Upload("lib/util.py", "X = 1\n")};
  code.source = "/home/me/project";
  code.git_json = R"({"commit":"abc","branch":"main","remote":"","dirty":false})";
  auto first = service_->CreateCodeSnapshot(code);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->asset.name, first->asset.content_hash);
  std::reverse(code.files.begin(), code.files.end());  // order does not matter
  auto second = service_->CreateCodeSnapshot(code);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->asset.content_hash, first->asset.content_hash);

  auto got = service_->GetCode("code:" + first->asset.content_hash);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->file_count, 2);
  auto files = service_->ListFiles(*got);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, "lib/util.py");
  int64_t size = 0;
  auto fd = service_->OpenFile(*got, "lib/util.py", &size);
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  EXPECT_EQ(size, 6);
  for (const std::string bad : {"../cairn.db", "/etc/passwd", "lib/../../x", "%2e%2e/x", ""}) {
    EXPECT_EQ(service_->OpenFile(*got, bad, &size).status().code(),
              ErrorCode::kInvalidParameterValue)
        << bad;
  }

  code.files.push_back(Upload("README", "changed"));
  auto third = service_->CreateCodeSnapshot(code);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->created);
  EXPECT_NE(third->asset.content_hash, first->asset.content_hash);
  EXPECT_EQ(service_->GetCode("not-a-hash").status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(service_->GetCode(Sha256Hex("unknown")).status().code(),
            ErrorCode::kResourceDoesNotExist);
}

// ---- lineage -----------------------------------------------------------------------------------

TEST_F(AssetServiceTest, LinkChecksBothEnds) {
  ASSERT_TRUE(CreateData("flights", "", {Upload("f", "1")}).ok());
  std::string run = NewRunId_();
  Status unknown_data = service_->Link("data:flights:9", "run:" + run, "input");
  EXPECT_EQ(unknown_data.code(), ErrorCode::kResourceDoesNotExist) << unknown_data.ToString();
  Status unknown_run = service_->Link("data:flights:1", "run:" + NewRunId(), "input");
  EXPECT_EQ(unknown_run.code(), ErrorCode::kResourceDoesNotExist) << unknown_run.ToString();
  Status garbage = service_->Link("nonsense", "run:" + run, "input");
  EXPECT_EQ(garbage.code(), ErrorCode::kInvalidParameterValue) << garbage.ToString();
  Status self = service_->Link("data:flights:1", "flights:1", "input");
  EXPECT_EQ(self.code(), ErrorCode::kInvalidParameterValue) << self.ToString();
  auto g = service_->Lineage("flights:1", true, true, 5);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->upstream.empty());
  EXPECT_TRUE(g->downstream.empty());

  // A bare ref is a data version; @latest is stored as the version it names.
  ASSERT_TRUE(CreateData("flights", "", {Upload("f", "2")}).ok());
  ASSERT_TRUE(service_->Link("flights:1", "run:" + run, "").ok());
  ASSERT_TRUE(service_->Link("data:flights@latest", "run:" + run, "input").ok());
  ASSERT_TRUE(service_->Link("data:flights@latest", "run:" + run, "input").ok());  // kept once
  auto canon = service_->CanonicalEntity("azureml:flights@latest");
  ASSERT_TRUE(canon.ok()) << canon.status().ToString();
  EXPECT_EQ(*canon, "data:flights:2");
  g = service_->Lineage("run:" + run, true, false, 1);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->root, "run:" + run);
  EXPECT_EQ(EdgeSet(g->upstream), (std::set<std::string>{"data:flights:1 -> run:" + run,
                                                         "data:flights:2 -> run:" + run}));
  for (const LineageEdge& e : g->upstream) EXPECT_EQ(e.relation, "input");
  EXPECT_EQ(service_->Lineage("run:" + run, true, true, 0).status().code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(service_->Lineage("run:" + run, true, true, 101).status().code(),
            ErrorCode::kInvalidParameterValue);
}

TEST_F(AssetServiceTest, LineageWalksDiamondsChainsAndCycles) {
  // Lineage between models and deployments needs no registered entity, so the
  // graph shapes are built from model versions.
  auto link = [&](const std::string& a, const std::string& b) {
    Status st = service_->Link("model:" + a, "model:" + b, "derived");
    ASSERT_TRUE(st.ok()) << a << " -> " << b << ": " << st.ToString();
  };
  // Diamond: top -> left, top -> right, left -> bottom, right -> bottom.
  link("top:1", "left:1");
  link("top:1", "right:1");
  link("left:1", "bottom:1");
  link("right:1", "bottom:1");
  auto g = service_->Lineage("model:bottom:1", true, false, 1);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(EdgeSet(g->upstream), (std::set<std::string>{"model:left:1 -> model:bottom:1",
                                                         "model:right:1 -> model:bottom:1"}));
  EXPECT_TRUE(g->downstream.empty());
  g = service_->Lineage("model:bottom:1", true, false, 2);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->upstream.size(), 4u);
  g = service_->Lineage("model:top:1", false, true, 10);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->downstream.size(), 4u) << "a diamond's shared node is walked once";
  EXPECT_EQ(EdgeSet(g->downstream).size(), 4u);
  g = service_->Lineage("model:left:1", true, true, 3);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(EdgeSet(g->upstream), (std::set<std::string>{"model:top:1 -> model:left:1"}));
  EXPECT_EQ(EdgeSet(g->downstream), (std::set<std::string>{"model:left:1 -> model:bottom:1"}));

  // Chain c1 -> c2 -> c3 -> c4 -> c5: depth k reaches exactly k edges.
  for (int i = 1; i < 5; ++i)
    link("c" + std::to_string(i) + ":1", "c" + std::to_string(i + 1) + ":1");
  for (int depth = 1; depth <= 5; ++depth) {
    auto down = service_->Lineage("model:c1:1", false, true, depth);
    ASSERT_TRUE(down.ok());
    EXPECT_EQ(down->downstream.size(), static_cast<size_t>(std::min(depth, 4))) << depth;
    auto up = service_->Lineage("model:c5:1", true, false, depth);
    ASSERT_TRUE(up.ok());
    EXPECT_EQ(up->upstream.size(), static_cast<size_t>(std::min(depth, 4))) << depth;
  }
  auto two = service_->Lineage("model:c1:1", false, true, 2);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(EdgeSet(two->downstream),
            (std::set<std::string>{"model:c1:1 -> model:c2:1", "model:c2:1 -> model:c3:1"}));
  EXPECT_FALSE(two->truncated);

  // A cycle a -> b -> c -> a terminates at any depth with its three edges.
  link("a:1", "b:1");
  link("b:1", "c:1");
  link("c:1", "a:1");
  for (bool upstream : {true, false}) {
    auto cyc = service_->Lineage("model:a:1", upstream, !upstream, 100);
    ASSERT_TRUE(cyc.ok()) << cyc.status().ToString();
    const auto& edges = upstream ? cyc->upstream : cyc->downstream;
    EXPECT_EQ(EdgeSet(edges),
              (std::set<std::string>{"model:a:1 -> model:b:1", "model:b:1 -> model:c:1",
                                     "model:c:1 -> model:a:1"}));
    EXPECT_EQ(edges.size(), 3u);
  }
}

TEST_F(AssetServiceTest, MlflowLogInputsLandsInTheLineageGraph) {
  ASSERT_TRUE(CreateData("flights", "", {Upload("f", "1")}).ok());
  std::string run = NewRunId_();
  DatasetInput plain;
  plain.dataset = {"train", "d1g3st", "local", R"({"uri": "/tmp/train.csv"})", "", ""};
  DatasetInput from_asset;
  from_asset.dataset = {"flights-ds", "abc123", "azureml", R"({"uri": "azureml:flights:1"})",
                        "",           ""};
  DatasetInput unknown_asset;
  unknown_asset.dataset = {"ghost", "ff00", "azureml", R"({"uri": "azureml:ghost:7"})", "", ""};
  Status st = store_->LogInputs(run, {plain, from_asset, unknown_asset});
  ASSERT_TRUE(st.ok()) << st.ToString();

  auto up = service_->Lineage("run:" + run, true, false, 2);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(
      EdgeSet(up->upstream),
      (std::set<std::string>{
          "dataset:train@d1g3st -> run:" + run, "dataset:flights-ds@abc123 -> run:" + run,
          "dataset:ghost@ff00 -> run:" + run, "data:flights:1 -> dataset:flights-ds@abc123"}));
  auto down = service_->Lineage("flights:1", false, true, 2);
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(EdgeSet(down->downstream),
            (std::set<std::string>{"data:flights:1 -> dataset:flights-ds@abc123",
                                   "dataset:flights-ds@abc123 -> run:" + run}));
}

// ---- environments ------------------------------------------------------------------------------

TEST_F(AssetServiceTest, EnvironmentsAreVersionedAndSharedByContent) {
  const std::string spec_a =
      R"({"name":"py","version":"1","description":"a","python":{"system_site_packages":true},)"
      R"("variables":{"MODE":"fast"}})";
  const std::string spec_b =
      R"({"name":"py-copy","version":"7","description":"b","tags":{"t":"v"},)"
      R"("python":{"system_site_packages":true},"variables":{"MODE":"fast"}})";
  auto a = service_->CreateEnvironment(spec_a, "me");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->created);
  EXPECT_EQ(a->asset.type, "python");
  auto b = service_->CreateEnvironment(spec_b, "me");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->asset.content_hash, b->asset.content_hash);
  EXPECT_EQ(a->asset.content_hash.size(), 64u);

  auto same = service_->CreateEnvironment(spec_a, "me");
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->created);
  const std::string changed =
      R"({"name":"py","version":"1","python":{"system_site_packages":false}})";
  auto refused = service_->CreateEnvironment(changed, "me");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(service_->Resolve(kEnvironmentAsset, "py:1")->content_hash, a->asset.content_hash);
  auto next = service_->CreateEnvironment(R"({"name":"py","python":{"requirements":["six"]}})", "");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->asset.version, "2");
  EXPECT_NE(next->asset.content_hash, a->asset.content_hash);

  for (const std::string bad : {"not json", "[]", R"({"version":"1"})",
                                R"({"name":"x","unknown_key":1})", R"({"name":"../x"})"}) {
    auto r = service_->CreateEnvironment(bad, "");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue) << bad;
  }
}

TEST_F(AssetServiceTest, BuildingAnEnvironmentTwiceHitsTheCache) {
  const std::string spec = R"({"name":"venv","python":{"system_site_packages":true}})";
  ASSERT_TRUE(service_->CreateEnvironment(spec, "").ok());
  ASSERT_TRUE(
      service_
          ->CreateEnvironment(R"({"name":"venv-alias","python":{"system_site_packages":true}})", "")
          .ok());
  auto first = service_->BuildEnvironment("venv:1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->cache_hit);
  EXPECT_TRUE(fs::exists(first->python)) << first->python;
  auto second = service_->BuildEnvironment("venv@latest");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->cache_hit);
  EXPECT_EQ(second->root, first->root);
  // Another name for the same content reuses the same build.
  auto alias = service_->BuildEnvironment("azureml:venv-alias:1");
  ASSERT_TRUE(alias.ok()) << alias.status().ToString();
  EXPECT_TRUE(alias->cache_hit);
  EXPECT_EQ(alias->root, first->root);
  EXPECT_EQ(service_->BuildEnvironment("venv:2").status().code(), ErrorCode::kResourceDoesNotExist);

  AssetService no_builder(*asset_store_, *store_, *artifacts_, nullptr, nullptr);
  EXPECT_EQ(no_builder.BuildEnvironment("venv:1").status().code(), ErrorCode::kInvalidState);
}

}  // namespace
}  // namespace cairn
