package sealed

// JSONFastDecode reports, to the external tests, whether the JSON codec
// decodes through encoding/json/v2 in this build.
const JSONFastDecode = jsonFastDecode
