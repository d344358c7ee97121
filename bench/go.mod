module github.com/sealedcookie/sealed/bench

go 1.26.0

require (
	github.com/go-jose/go-jose/v4 v4.1.8
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
	github.com/sealedcookie/sealed v1.0.0
	github.com/sealedcookie/sealed/codec/cbor v1.0.0
	github.com/sealedcookie/sealed/codec/msgpack v1.0.0
	golang.org/x/crypto v0.58.0
)

require (
	github.com/fxamacker/cbor/v2 v2.9.6 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
