// Command etcd is the etcd server; the etcd release binary is this same call in the go.etcd.io/etcd/v3 root
// module, which would drag in etcdctl/etcdutl dependencies we do not need.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
