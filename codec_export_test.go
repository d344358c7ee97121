package sealed

// JSONv2Active reports, to the external tests, whether JSONv2 uses
// encoding/json/v2 in this build.
const JSONv2Active = hasJSONv2
