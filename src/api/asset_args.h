// Request arguments shared by the asset and model-asset routes: tags written
// the Azure ML way ({key: value}) or the MLflow way ([{key, value}]), and an
// upload manifest ([{path, sha256, size}]). The first error is collected in
// `Args`, as everywhere in api/. Included by api/*.cc only.
#pragma once

#include <vector>

#include "api/json_args.h"
#include "assets/manifest.h"
#include "store/entities.h"

namespace cairn::api {

std::vector<Tag> AssetTagsArg(Args& a);
std::vector<ManifestFile> ManifestArg(Args& a);

}  // namespace cairn::api
