// Command informer-go is the scale benchmark's client-go baseline for memory: a dynamic shared
// informer caching the Integrations of one namespace, as a small Go operator would (no
// transform: managedFields and all are kept, client-go's default). Once the cache has synced
// and -settle has passed, it forces two GCs and prints one JSON line,
// {"objects":N,"heapAllocBytes":...,"rssBytes":...}, then exits.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig file")
	namespace := flag.String("namespace", "", "namespace to cache (default: all)")
	settle := flag.Duration("settle", 5*time.Second, "wait after the cache synced")
	flag.Parse()
	if err := run(*kubeconfig, *namespace, *settle); err != nil {
		fmt.Fprintln(os.Stderr, "informer-go:", err)
		os.Exit(1)
	}
}

func run(kubeconfig, namespace string, settle time.Duration) error {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		return err
	}
	gvr := schema.GroupVersionResource{Group: "tributary.dev", Version: "v1alpha1", Resource: "integrations"}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, 0, namespace, nil)
	informer := factory.ForResource(gvr).Informer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		return fmt.Errorf("cache did not sync")
	}
	time.Sleep(settle)
	runtime.GC()
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	rss, err := vmRSS()
	if err != nil {
		return err
	}
	line, _ := json.Marshal(map[string]uint64{
		"objects":        uint64(len(informer.GetStore().List())),
		"heapAllocBytes": stats.HeapAlloc,
		"rssBytes":       rss,
	})
	fmt.Println(string(line))
	return nil
}

// vmRSS is this process's resident set, bytes, from /proc/self/status.
func vmRSS() (uint64, error) {
	file, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) >= 2 && fields[0] == "VmRSS:" {
			kib, err := strconv.ParseUint(fields[1], 10, 64)
			return kib * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/self/status")
}
