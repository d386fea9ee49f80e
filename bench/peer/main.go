// A peer for the CMK benchmark: a small controller on controller-runtime that reconciles
// CustomerManagedKeys with the writes byok-operator makes for the bench's objects, so both can
// be timed against the same apiserver in one run (bench/cmk). It is not a product and knows only
// what the benchmark's objects need:
//
//   - no byok.dev/customermanagedkey finalizer: add it (a merge patch guarded by
//     resourceVersion) and stop; the update comes back through the watch;
//   - verification due (KeyVerified not True for this generation): read the KmsProvider named
//     by spec.providerRef from the apiserver (not a cache, as the operator does); the bench names
//     one that does not exist, so the answer is ProviderNotFound and no KMS is called;
//   - a server-side apply of the status (field manager byok-operator's shape: id, status,
//     default, observedGeneration, createdAt, updatedAt, conditions KeyVerified and Ready), only
//     when it changed;
//   - the Events the operator records on the first pass: Registered and KeyVerificationFailed
//     (events.k8s.io, through controller-runtime's recorder);
//   - come back after 60 s while the provider is missing (the operator's lasting-failure look).
//
// Flags: --kubeconfig --namespace --workers --qps --burst --resync-seconds.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
)

const finalizer = "byok.dev/customermanagedkey"

var (
	cmkGVK      = schema.GroupVersionKind{Group: "byok.dev", Version: "v1alpha1", Kind: "CustomerManagedKey"}
	providerGVK = schema.GroupVersionKind{Group: "byok.dev", Version: "v1alpha1", Kind: "KmsProvider"}
)

type reconciler struct {
	client.Client
	reader client.Reader          // uncached, as the operator's provider lookup
	events recorder.EventRecorder // events.k8s.io, as the operator writes
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func condition(conds []interface{}, typ string) map[string]interface{} {
	for _, c := range conds {
		if m, ok := c.(map[string]interface{}); ok && m["type"] == typ {
			return m
		}
	}
	return nil
}

// setCondition keeps lastTransitionTime when the status does not flip (metav1.Condition rules).
func setCondition(old []interface{}, typ, status, reason, message string, gen int64, now string) map[string]interface{} {
	c := map[string]interface{}{"type": typ, "status": status, "reason": reason, "message": message,
		"observedGeneration": gen, "lastTransitionTime": now}
	if prev := condition(old, typ); prev != nil && prev["status"] == status {
		if t, ok := prev["lastTransitionTime"].(string); ok {
			c["lastTransitionTime"] = t
		}
	}
	return c
}

func (r *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(cmkGVK)
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	hasFinalizer := false
	for _, f := range obj.GetFinalizers() {
		if f == finalizer {
			hasFinalizer = true
		}
	}
	if obj.GetDeletionTimestamp() != nil {
		if !hasFinalizer {
			return ctrl.Result{}, nil
		}
		// deletionPolicy Retain: let go at once.
		var keep []string
		for _, f := range obj.GetFinalizers() {
			if f != finalizer {
				keep = append(keep, f)
			}
		}
		patch, _ := json.Marshal(map[string]interface{}{"metadata": map[string]interface{}{
			"finalizers": keep, "resourceVersion": obj.GetResourceVersion()}})
		return ctrl.Result{}, client.IgnoreNotFound(r.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)))
	}
	if !hasFinalizer {
		patch, _ := json.Marshal(map[string]interface{}{"metadata": map[string]interface{}{
			"finalizers": append(obj.GetFinalizers(), finalizer), "resourceVersion": obj.GetResourceVersion()}})
		return ctrl.Result{}, r.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch))
	}

	gen := obj.GetGeneration()
	status, _, _ := unstructured.NestedMap(obj.Object, "status")
	if status == nil {
		status = map[string]interface{}{}
	}
	oldConds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	verified := condition(oldConds, "KeyVerified")
	due := verified == nil || verified["status"] != "True" || fmt.Sprint(verified["observedGeneration"]) != fmt.Sprint(gen)
	if !due {
		return ctrl.Result{RequeueAfter: 600 * time.Second}, nil
	}

	ref, _, _ := unstructured.NestedString(obj.Object, "spec", "providerRef", "name")
	provider := &unstructured.Unstructured{}
	provider.SetGroupVersionKind(providerGVK)
	err := r.reader.Get(ctx, types.NamespacedName{Namespace: req.Namespace, Name: ref}, provider)
	if err == nil || !apierrors.IsNotFound(err) {
		// The bench never creates a KmsProvider; anything else is not what is being measured.
		if err == nil {
			err = fmt.Errorf("KmsProvider %s/%s exists: the peer only knows the bench's objects", req.Namespace, ref)
		}
		return ctrl.Result{}, err
	}
	now := time.Now().UTC().Format(time.RFC3339)
	message := "KmsProvider " + req.Namespace + "/" + ref + " (spec.providerRef.name) does not exist: create it or fix spec.providerRef.name"
	id, _ := status["id"].(string)
	fresh := id == ""
	if fresh {
		id = newID()
	}
	conds := []interface{}{
		setCondition(oldConds, "KeyVerified", "False", "ProviderNotFound", message, gen, now),
		setCondition(oldConds, "Ready", "False", "ProviderNotFound", message, gen, now),
	}
	next := map[string]interface{}{
		"id": id, "status": "current", "default": false, "observedGeneration": gen,
		"createdAt": obj.GetCreationTimestamp().UTC().Format(time.RFC3339), "conditions": conds,
	}
	updated, _ := status["updatedAt"].(string)
	if updated == "" || status["status"] != "current" || fmt.Sprint(status["observedGeneration"]) != fmt.Sprint(gen) {
		updated = now
	}
	next["updatedAt"] = updated
	a, _ := json.Marshal(status)
	b, _ := json.Marshal(next)
	var an, bn interface{}
	_ = json.Unmarshal(a, &an)
	_ = json.Unmarshal(b, &bn)
	if fmt.Sprint(an) != fmt.Sprint(bn) {
		apply := &unstructured.Unstructured{Object: map[string]interface{}{
			"apiVersion": cmkGVK.GroupVersion().String(), "kind": cmkGVK.Kind,
			"metadata": map[string]interface{}{"name": obj.GetName(), "namespace": obj.GetNamespace(),
				"resourceVersion": obj.GetResourceVersion()},
			"status": next,
		}}
		//nolint:staticcheck // unstructured apply
		if err := r.Status().Patch(ctx, apply, client.Apply, client.FieldOwner("byok-operator"), client.ForceOwnership); err != nil {
			return ctrl.Result{}, err
		}
	}
	if fresh {
		res, _, _ := unstructured.NestedString(obj.Object, "spec", "resource")
		r.events.Eventf(obj, nil, "Normal", "Registered", "Register", "registered aws key %s as id %s", res, id)
	}
	if verified == nil || verified["status"] != "False" || verified["reason"] != "ProviderNotFound" {
		r.events.Eventf(obj, nil, "Warning", "KeyVerificationFailed", "Verify", "ProviderNotFound: %s", message)
	}
	return ctrl.Result{RequeueAfter: 60 * time.Second}, nil
}

// wakes is the operator's change filter (controller/runtime/change_filter.h): an update wakes the
// object's reconcile when anything but status, resourceVersion and managedFields changed, so the
// controller's own status writes do not wake it again.
func wakes(oldObj, newObj client.Object) bool {
	strip := func(o client.Object) map[string]interface{} {
		u, ok := o.(*unstructured.Unstructured)
		if !ok {
			return nil
		}
		c := u.DeepCopy().Object
		delete(c, "status")
		if md, ok := c["metadata"].(map[string]interface{}); ok {
			delete(md, "resourceVersion")
			delete(md, "managedFields")
		}
		return c
	}
	return !equality.Semantic.DeepEqual(strip(oldObj), strip(newObj))
}

func main() {
	var namespace string
	var workers, burst, resync int
	var qps float64
	// --kubeconfig is controller-runtime's own flag (then $KUBECONFIG).
	flag.StringVar(&namespace, "namespace", "", "the namespace to watch")
	flag.IntVar(&workers, "workers", 4, "MaxConcurrentReconciles")
	flag.Float64Var(&qps, "qps", 100000, "client-side QPS (high: only the apiserver limits)")
	flag.IntVar(&burst, "burst", 100000, "client-side burst")
	flag.IntVar(&resync, "resync-seconds", 600, "the informer's resync period")
	flag.Parse()
	log.SetLogger(zap.New(zap.UseDevMode(false), zap.Level(zapcore.WarnLevel)))

	cfg, err := ctrl.GetConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubeconfig:", err)
		os.Exit(2)
	}
	cfg.QPS = float32(qps)
	cfg.Burst = burst
	sync := time.Duration(resync) * time.Second
	opts := ctrl.Options{
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
		Cache:                  cache.Options{SyncPeriod: &sync},
		// Reads from the informer's cache, as the operator reads its store (controller-runtime
		// reads unstructured objects from the apiserver unless told otherwise).
		Client: client.Options{Cache: &client.CacheOptions{Unstructured: true}},
	}
	if namespace != "" {
		opts.Cache.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	}
	mgr, err := ctrl.NewManager(cfg, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
	r := &reconciler{Client: mgr.GetClient(), reader: mgr.GetAPIReader(), events: mgr.GetEventRecorder("byok-peer")}
	watched := &unstructured.Unstructured{}
	watched.SetGroupVersionKind(cmkGVK)
	err = ctrl.NewControllerManagedBy(mgr).
		For(watched, builder.WithPredicates(predicate.Funcs{
			UpdateFunc: func(e event.UpdateEvent) bool { return wakes(e.ObjectOld, e.ObjectNew) },
			DeleteFunc: func(event.DeleteEvent) bool { return false },
		})).
		Named("customermanagedkey").
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, "controller:", err)
		os.Exit(1)
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}
