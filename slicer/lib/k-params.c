// SPDX-License-Identifier: GPL-2.0
/*
 * Driver library, kernel-facing: module parameters for a user half.
 *
 * Provides the kernel_param_ops objects module_param() and
 * module_param_array() point at, and their set/get/free functions, as
 * kernel/params.c defines them: param_ops_byte, _short, _ushort, _int,
 * _uint, _long, _ulong, _ullong, _hexint (parsed with kstrto*() in base
 * 0, printed as "%hhu\n", "%hi\n" ... "%#08x\n"), _charp (a private copy
 * of the string, freed when replaced), _bool (y/n/1/0/on/off, no value
 * meaning "1", printed Y/N), _bool_enable_only, _invbool, _bint, _string
 * (copied into the driver's buffer), param_array_ops (comma-separated
 * values, each through the element's ops), and param_set_uint_minmax.
 *
 * The u-driver applies its parameters by calling these ops, as the
 * kernel's parse_args() does at load time.
 *
 * Departure: param_array_ops.set does not write NUL bytes into the value
 * string as the kernel's does (its command line is writable; a value
 * handed over here may not be): each element is copied out first.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#define STANDARD_PARAM(name, type, format, parse)				\
int param_set_##name(const char *val, const struct kernel_param *kp)		\
{										\
	return parse(val, 0, (type *)kp->arg);					\
}										\
int param_get_##name(char *buffer, const struct kernel_param *kp)		\
{										\
	return scnprintf(buffer, PAGE_SIZE, format "\n", *((type *)kp->arg));	\
}										\
const struct kernel_param_ops param_ops_##name = {				\
	.set = param_set_##name,						\
	.get = param_get_##name,						\
}

STANDARD_PARAM(byte, unsigned char, "%hhu", kstrtou8);
STANDARD_PARAM(short, short, "%hi", kstrtos16);
STANDARD_PARAM(ushort, unsigned short, "%hu", kstrtou16);
STANDARD_PARAM(int, int, "%i", kstrtoint);
STANDARD_PARAM(uint, unsigned int, "%u", kstrtouint);
STANDARD_PARAM(long, long, "%li", kstrtol);
STANDARD_PARAM(ulong, unsigned long, "%lu", kstrtoul);
STANDARD_PARAM(ullong, unsigned long long, "%llu", kstrtoull);
STANDARD_PARAM(hexint, unsigned int, "%#08x", kstrtouint);

int param_set_uint_minmax(const char *val, const struct kernel_param *kp,
			  unsigned int min, unsigned int max)
{
	unsigned int num;
	int ret;

	if (!val)
		return -EINVAL;
	ret = kstrtouint(val, 0, &num);
	if (ret)
		return ret;
	if (num < min || num > max)
		return -EINVAL;
	*((unsigned int *)kp->arg) = num;
	return 0;
}

/* The strings param_set_charp allocated, so that only those are freed. */
struct kmalloced_param {
	struct list_head list;
	char val[];
};
static LIST_HEAD(kmalloced_params);
static DEFINE_SPINLOCK(kmalloced_params_lock);

static char *kmalloc_parameter(unsigned int size)
{
	struct kmalloced_param *p = kmalloc(size_add(sizeof(*p), size), GFP_KERNEL);

	if (!p)
		return NULL;
	spin_lock(&kmalloced_params_lock);
	list_add(&p->list, &kmalloced_params);
	spin_unlock(&kmalloced_params_lock);
	return p->val;
}

static void maybe_kfree_parameter(void *param)
{
	struct kmalloced_param *p;

	spin_lock(&kmalloced_params_lock);
	list_for_each_entry(p, &kmalloced_params, list) {
		if (p->val == param) {
			list_del(&p->list);
			kfree(p);
			break;
		}
	}
	spin_unlock(&kmalloced_params_lock);
}

int param_set_charp(const char *val, const struct kernel_param *kp)
{
	size_t len, maxlen = 1024;
	char *tmp;

	len = strnlen(val, maxlen + 1);
	if (len == maxlen + 1) {
		pr_err("%s: string parameter too long\n", kp->name);
		return -ENOSPC;
	}
	tmp = kmalloc_parameter(len + 1);
	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, val, len + 1);
	maybe_kfree_parameter(*(char **)kp->arg);
	*(char **)kp->arg = tmp;
	return 0;
}

int param_get_charp(char *buffer, const struct kernel_param *kp)
{
	return scnprintf(buffer, PAGE_SIZE, "%s\n", *((char **)kp->arg));
}

void param_free_charp(void *arg)
{
	maybe_kfree_parameter(*((char **)arg));
}

const struct kernel_param_ops param_ops_charp = {
	.set = param_set_charp,
	.get = param_get_charp,
	.free = param_free_charp,
};

int param_set_bool(const char *val, const struct kernel_param *kp)
{
	/* No "=value" means set. */
	if (!val)
		val = "1";
	return kstrtobool(val, kp->arg);
}

int param_get_bool(char *buffer, const struct kernel_param *kp)
{
	return sprintf(buffer, "%c\n", *(bool *)kp->arg ? 'Y' : 'N');
}

const struct kernel_param_ops param_ops_bool = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = param_set_bool,
	.get = param_get_bool,
};

int param_set_bool_enable_only(const char *val, const struct kernel_param *kp)
{
	bool orig_value = *(bool *)kp->arg;
	struct kernel_param dummy_kp = *kp;
	bool new_value;
	int err;

	dummy_kp.arg = &new_value;
	err = param_set_bool(val, &dummy_kp);
	if (err)
		return err;
	/* Once set, it stays set. */
	if (!new_value && orig_value)
		return -EROFS;
	if (new_value)
		err = param_set_bool(val, kp);
	return err;
}

const struct kernel_param_ops param_ops_bool_enable_only = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = param_set_bool_enable_only,
	.get = param_get_bool,
};

int param_set_invbool(const char *val, const struct kernel_param *kp)
{
	struct kernel_param dummy;
	bool boolval;
	int ret;

	dummy.arg = &boolval;
	ret = param_set_bool(val, &dummy);
	if (ret == 0)
		*(bool *)kp->arg = !boolval;
	return ret;
}

int param_get_invbool(char *buffer, const struct kernel_param *kp)
{
	return sprintf(buffer, "%c\n", (*(bool *)kp->arg) ? 'N' : 'Y');
}

const struct kernel_param_ops param_ops_invbool = {
	.set = param_set_invbool,
	.get = param_get_invbool,
};

int param_set_bint(const char *val, const struct kernel_param *kp)
{
	struct kernel_param boolkp = *kp;
	bool v;
	int ret;

	boolkp.arg = &v;
	ret = param_set_bool(val, &boolkp);
	if (ret == 0)
		*(int *)kp->arg = v;
	return ret;
}

const struct kernel_param_ops param_ops_bint = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = param_set_bint,
	.get = param_get_int,
};

static int param_array_set(const char *val, const struct kernel_param *kp)
{
	const struct kparam_array *arr = kp->arr;
	unsigned int temp_num, *num = arr->num ?: &temp_num;
	struct kernel_param elem_kp = {
		.name = kp->name,
		.mod = kp->mod,
		.level = kp->level,
		.arg = arr->elem,
	};
	size_t len;
	int ret;

	*num = 0;
	for (;;) {
		char *elem;

		if (*num == arr->max) {
			pr_err("%s: can only take %i arguments\n", kp->name, arr->max);
			return -EINVAL;
		}
		len = strcspn(val, ",");
		elem = kmemdup_nul(val, len, GFP_KERNEL);
		if (!elem)
			return -ENOMEM;
		ret = arr->ops->set(elem, &elem_kp);
		kfree(elem);
		if (ret != 0)
			return ret;
		elem_kp.arg += arr->elemsize;
		(*num)++;
		if (val[len] != ',')
			break;
		val += len + 1;
	}
	/* At least one value: param_array() is called with min 1. */
	return 0;
}

static int param_array_get(char *buffer, const struct kernel_param *kp)
{
	const struct kparam_array *arr = kp->arr;
	struct kernel_param p = *kp;
	int i, off, ret;

	for (i = off = 0; i < (arr->num ? *arr->num : arr->max); i++) {
		/* Each value's newline becomes the separator. */
		if (i)
			buffer[off - 1] = ',';
		p.arg = arr->elem + arr->elemsize * i;
		ret = arr->ops->get(buffer + off, &p);
		if (ret < 0)
			return ret;
		off += ret;
	}
	buffer[off] = '\0';
	return off;
}

static void param_array_free(void *arg)
{
	const struct kparam_array *arr = arg;
	unsigned int i;

	if (arr->ops->free)
		for (i = 0; i < (arr->num ? *arr->num : arr->max); i++)
			arr->ops->free(arr->elem + arr->elemsize * i);
}

const struct kernel_param_ops param_array_ops = {
	.set = param_array_set,
	.get = param_array_get,
	.free = param_array_free,
};

int param_set_copystring(const char *val, const struct kernel_param *kp)
{
	const struct kparam_string *kps = kp->str;

	if (strnlen(val, kps->maxlen) == kps->maxlen) {
		pr_err("%s: string doesn't fit in %u chars.\n", kp->name, kps->maxlen - 1);
		return -ENOSPC;
	}
	strcpy(kps->string, val);
	return 0;
}

int param_get_string(char *buffer, const struct kernel_param *kp)
{
	const struct kparam_string *kps = kp->str;

	return scnprintf(buffer, PAGE_SIZE, "%s\n", kps->string);
}

const struct kernel_param_ops param_ops_string = {
	.set = param_set_copystring,
	.get = param_get_string,
};
