module github.com/sealedcookie/sealed/codec/msgpack

go 1.26.0

require (
	github.com/sealedcookie/sealed v1.0.0
	github.com/vmihailenco/msgpack/v5 v5.4.1
)

require (
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
